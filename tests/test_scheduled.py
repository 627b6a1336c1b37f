"""ScheduledTasksWorkflow (health, queue processor, maintenance) in the time-skipping environment."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from taskrunner.maintenance.models import maintenance_input
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import (
    ProcessorInput,
    TaskSpec,
)
from taskrunner.scheduled.models import (
    ScheduledTasksInput,
    ScheduledTasksReport,
)
from taskrunner.scheduled.workflow import ScheduledTasksWorkflow
from taskrunner.settings import Settings
from tests.helpers.databases import bloated_sqlite

ZONE = "America/New_York"
QUIET = {"cpu_threshold": 100, "memory_threshold": 100, "disk_threshold": 100}


def closed_window_around(now: datetime) -> dict[str, str]:
    """A one-hour window twelve hours away from ``now`` (local): certainly closed."""
    local = now.astimezone(ZoneInfo(ZONE))
    start = (local + timedelta(hours=12)).replace(minute=0).time()
    end = time((start.hour + 1) % 24, 0)
    return {"window_start": start.isoformat(), "window_end": end.isoformat()}


def open_window_around(now: datetime) -> dict[str, str]:
    """A window from the start of ``now``'s local hour to two hours later: open now."""
    local = now.astimezone(ZoneInfo(ZONE))
    start = local.replace(minute=0, second=0).time()
    return {
        "window_start": start.isoformat(),
        "window_end": time((local.hour + 2) % 24, 0).isoformat(),
    }


async def run_scheduled(
    client: Client, make_worker: Any, settings: Settings, queue: str, tasks: int = 0
) -> tuple[ScheduledTasksReport, list[str]]:
    workflow_id = f"scheduled-{uuid.uuid4().hex[:8]}"
    async with make_worker(client, settings):
        if tasks:
            await QueueClient(client, settings, queue).enqueue_batch(
                [
                    TaskSpec(
                        type="email", payload={"recipient": f"u{i}@example.com", "subject": "Hi"}
                    )
                    for i in range(tasks)
                ]
            )
        handle = await client.start_workflow(
            ScheduledTasksWorkflow.run,
            ScheduledTasksInput(
                processor=ProcessorInput(queue=queue), maintenance=maintenance_input(settings)
            ),
            id=workflow_id,
            task_queue=settings.task_queue,
        )
        report = await handle.result()
        children = [
            e.child_workflow_execution_started_event_attributes.workflow_type.name
            async for e in handle.fetch_history_events()
            if e.HasField("child_workflow_execution_started_event_attributes")
        ]
    return report, children


@pytest.fixture
async def settings_closed_window(env: WorkflowEnvironment, make_settings: Any) -> Settings:
    now = await env.get_current_time()
    return make_settings(timezone=ZONE, health=QUIET, maintenance=closed_window_around(now))


async def test_children_run_in_order_and_report_combines_them(
    client: Client, make_worker: Any, settings_closed_window: Settings
) -> None:
    settings = settings_closed_window
    queue = f"q-{uuid.uuid4().hex[:6]}"
    report, children = await run_scheduled(client, make_worker, settings, queue, tasks=2)
    assert children == ["HealthMonitorWorkflow", "TaskProcessorWorkflow", "MaintenanceWorkflow"]
    assert report.health.healthy and report.health.all_up and not report.health.alerted
    assert report.processing.queue == queue
    assert report.processing.stats is not None
    assert (report.processing.stats.completed, report.processing.stats.failed) == (2, 0)
    assert len(list((settings.outbox_dir).glob("*.eml"))) == 2
    assert report.ok


async def test_maintenance_outside_the_window_is_skipped_not_failed(
    client: Client, make_worker: Any, settings_closed_window: Settings
) -> None:
    report, _ = await run_scheduled(client, make_worker, settings_closed_window, "never-created")
    assert report.maintenance is not None
    assert report.maintenance.status == "skipped"
    assert report.maintenance.reason == "Outside maintenance window - skipping"
    assert report.maintenance_error is None
    assert report.processing.processed == 0 and report.processing.stats is None


async def test_failed_maintenance_is_reported_without_failing_the_run(
    client: Client, make_worker: Any, make_settings: Any, env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # A window that is open now, and a configured database file that is missing.
    window = open_window_around(await env.get_current_time())
    settings = make_settings(
        timezone=ZONE,
        health=QUIET,
        maintenance=window,
        database={"path": str(tmp_path / "missing.db")},
    )
    report, children = await run_scheduled(client, make_worker, settings, "never-created")
    assert children[-1] == "MaintenanceWorkflow"
    assert report.maintenance is None
    assert report.maintenance_error is not None and "does not exist" in report.maintenance_error
    assert not report.ok


async def test_a_partly_failed_maintenance_is_reported_and_the_run_is_not_ok(
    client: Client, make_worker: Any, make_settings: Any, env: WorkflowEnvironment, tmp_path: Path
) -> None:
    # One target's file is missing, the application database is fine: the run goes on.
    targets = [{"name": "shop", "path": str(tmp_path / "missing.db")}, {"name": "app"}]
    window = open_window_around(await env.get_current_time())
    settings = make_settings(
        timezone=ZONE, health=QUIET, maintenance={**window, "targets": targets}
    )
    bloated_sqlite(settings.sqlite_path(settings.database))
    report, _ = await run_scheduled(client, make_worker, settings, "never-created")
    assert report.maintenance is not None and report.maintenance_error is None
    assert report.maintenance.status == "partial"
    assert [t.status for t in report.maintenance.targets] == ["failed", "completed"]
    assert len(report.maintenance.backups) == 1
    assert not report.ok
