"""Workflow runs whose histories are recorded under tests/histories/ and replayed in CI.

Each scenario runs one workflow to its end in the time-skipping environment and
returns its handle. ``python -m tests.histories.record`` re-records them all.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from taskrunner.maintenance.models import maintenance_input
from taskrunner.health.models import HealthCheckInput
from taskrunner.queue.models import (
    ProcessorInput,
    TaskSpec,
)
from taskrunner.scheduled.models import ScheduledTasksInput
from taskrunner.settings import (
    Settings,
    load_settings,
)
from tests.helpers import free_port
from tests.helpers.databases import bloated_sqlite
from tests.helpers.queue import running_queue
from tests.helpers.readings import SetReadings
from taskrunner.health.workflow import HealthMonitorWorkflow
from taskrunner.maintenance.daily import DailyMaintenanceWorkflow
from taskrunner.maintenance.workflow import MaintenanceWorkflow
from taskrunner.scheduled.workflow import ScheduledTasksWorkflow
from taskrunner.queue.processor import TaskProcessorWorkflow
from taskrunner.jobs.models import JobFire
from taskrunner.jobs.workflow import JobFireWorkflow

Scenario = Callable[[Client, Path], Awaitable[WorkflowHandle[Any, Any]]]

QUIET_HEALTH = {"cpu_threshold": 100, "memory_threshold": 100, "disk_threshold": 100}


def scenario_settings(data_dir: Path, **overrides: Any) -> Settings:
    return load_settings(data_dir=data_dir, task_queue=f"record-{uuid.uuid4().hex[:8]}", **overrides)


async def _run(
    client: Client, settings: Settings, workflow: Any, arg: Any, **options: Any
) -> WorkflowHandle:
    from taskrunner.worker import build_worker

    async with build_worker(client, settings, **options):
        handle = await client.start_workflow(
            workflow, arg, id=f"record-{uuid.uuid4().hex[:8]}", task_queue=settings.task_queue
        )
        try:
            await handle.result()
        except Exception:
            pass  # failing scenarios are recorded too
    return handle


async def health_alert(client: Client, data_dir: Path) -> WorkflowHandle:
    """Memory over its threshold, read from the scenario (not this machine): an error alert."""
    readings = SetReadings()
    readings.set(memory=95)
    settings = scenario_settings(data_dir)
    return await _run(
        client, settings, HealthMonitorWorkflow.run, HealthCheckInput(), system_reader=readings
    )


async def health_no_alert(client: Client, data_dir: Path) -> WorkflowHandle:
    settings = scenario_settings(data_dir)
    return await _run(
        client, settings, HealthMonitorWorkflow.run, HealthCheckInput(), system_reader=SetReadings()
    )


def window(start_in_hours: int, hours: int) -> dict[str, str]:
    """A UTC maintenance window starting that many hours from now (negative: it is open)."""
    start = datetime.now(UTC) + timedelta(hours=start_in_hours)
    end = start + timedelta(hours=hours)
    return {"window_start": start.strftime("%H:00"), "window_end": end.strftime("%H:00")}


def maintenance_settings(data_dir: Path, **maintenance: Any) -> Settings:
    settings = scenario_settings(data_dir, health=QUIET_HEALTH, maintenance=maintenance)
    bloated_sqlite(settings.sqlite_path(settings.database), rows=200, kept=20)
    return settings


async def maintenance_inside_window(client: Client, data_dir: Path) -> WorkflowHandle:
    settings = maintenance_settings(data_dir, **window(-1, 3))
    return await _run(client, settings, MaintenanceWorkflow.run, maintenance_input(settings))


async def maintenance_outside_window(client: Client, data_dir: Path) -> WorkflowHandle:
    settings = maintenance_settings(data_dir, **window(6, 1))
    return await _run(client, settings, MaintenanceWorkflow.run, maintenance_input(settings))


async def maintenance_failing(client: Client, data_dir: Path) -> WorkflowHandle:
    settings = maintenance_settings(data_dir, **window(-1, 3))
    # A regular file where the backups folder should be: the backup step fails for good.
    settings.backups_dir.write_text("not a folder")
    return await _run(client, settings, MaintenanceWorkflow.run, maintenance_input(settings))


async def maintenance_partial(client: Client, data_dir: Path) -> WorkflowHandle:
    """A database that is down (nothing listens on its port) before a healthy SQLite file."""
    down = {"name": "pg", "kind": "postgres", "dsn": f"postgresql://u@127.0.0.1:{free_port()}/x"}
    settings = maintenance_settings(data_dir, **window(-1, 3), targets=[down, {"name": "app"}])
    return await _run(client, settings, MaintenanceWorkflow.run, maintenance_input(settings))


async def daily_maintenance_first_night(client: Client, data_dir: Path) -> WorkflowHandle:
    """What the schedule starts, on a fresh install: no application database yet."""
    settings = scenario_settings(data_dir, health=QUIET_HEALTH, maintenance=window(-1, 3))
    return await _run(client, settings, DailyMaintenanceWorkflow.run, maintenance_input(settings))


def _queue_tasks(count: int) -> list[TaskSpec]:
    kinds = ["noop", "flaky", "noop", "doomed", "noop"]
    return [TaskSpec(type=kinds[i % len(kinds)], payload={"n": i}) for i in range(count)]


async def queue_retries_continue_as_new(client: Client, data_dir: Path) -> WorkflowHandle:
    """The queue's first run: tasks with retries, ended by continue-as-new."""
    settings = scenario_settings(data_dir, queue={"history_threshold": 100, "max_concurrency": 4})
    async with running_queue(client, settings) as h:
        await h.queue.enqueue_batch(_queue_tasks(40))
        await h.queue.drain()
        description = await h.queue.handle.describe()
        stats = await h.queue.stats()
        assert stats.run_number > 1, "the queue did not continue as new"
        first_run = description.raw_description.workflow_execution_info.first_run_id
    return client.get_workflow_handle(h.queue.workflow_id, run_id=first_run)


async def task_processor(client: Client, data_dir: Path) -> WorkflowHandle:
    settings = scenario_settings(data_dir)
    async with running_queue(client, settings) as h:
        await h.queue.enqueue_batch(_queue_tasks(5))
        handle = await client.start_workflow(
            TaskProcessorWorkflow.run,
            ProcessorInput(queue=h.queue.name),
            id=f"record-{uuid.uuid4().hex[:8]}",
            task_queue=settings.task_queue,
        )
        await handle.result()
    return handle


async def scheduled_tasks(client: Client, data_dir: Path) -> WorkflowHandle:
    """The composition: health, then the processor, then maintenance (skipped here)."""
    settings = maintenance_settings(data_dir, **window(6, 1))
    async with running_queue(client, settings) as h:
        await h.queue.enqueue_batch(_queue_tasks(3))
        handle = await client.start_workflow(
            ScheduledTasksWorkflow.run,
            ScheduledTasksInput(
                processor=ProcessorInput(queue=h.queue.name),
                maintenance=maintenance_input(settings),
            ),
            # Its child ids derive from its own: tests/test_replay.py replays it as this id.
            id="replay-scheduled_tasks",
            task_queue=settings.task_queue,
        )
        await handle.result()
    return handle


async def job_fire(client: Client, data_dir: Path) -> WorkflowHandle:
    """A job's fire with overlap "skip": enqueue its task, wait until the task finished."""
    settings = scenario_settings(data_dir)
    async with running_queue(client, settings) as h:
        fire = JobFire(
            job="nightly",
            key_prefix="job:nightly",
            queue=h.queue.name,
            task=TaskSpec(type="noop", payload={"n": 1}),
        )
        handle = await client.start_workflow(
            JobFireWorkflow.run,
            fire,
            id=f"record-{uuid.uuid4().hex[:8]}",
            task_queue=settings.task_queue,
        )
        await handle.result()
    return handle


SCENARIOS: dict[str, Scenario] = {
    "health_alert": health_alert,
    "health_no_alert": health_no_alert,
    "maintenance_inside_window": maintenance_inside_window,
    "maintenance_outside_window": maintenance_outside_window,
    "maintenance_failing": maintenance_failing,
    "maintenance_partial": maintenance_partial,
    "daily_maintenance_first_night": daily_maintenance_first_night,
    "queue_retries_continue_as_new": queue_retries_continue_as_new,
    "task_processor": task_processor,
    "scheduled_tasks": scheduled_tasks,
    "job_fire": job_fire,
}
"""History file name (without .json) -> the run that produces it."""
