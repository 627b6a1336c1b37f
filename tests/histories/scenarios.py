"""Workflow runs whose histories are recorded under tests/histories/ and replayed in CI.

Each scenario runs one workflow to its end in the time-skipping environment and
returns its handle. ``python -m tests.histories.record`` re-records them all.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from taskrunner.models.health import HealthCheckInput
from taskrunner.settings import Settings, load_settings
from workflows.health import HealthMonitorWorkflow

Scenario = Callable[[Client, Path], Awaitable[WorkflowHandle[Any, Any]]]

QUIET_HEALTH = {"cpu_threshold": 100, "memory_threshold": 100, "disk_threshold": 100}


def scenario_settings(data_dir: Path, **overrides: Any) -> Settings:
    return load_settings(data_dir=data_dir, task_queue=f"record-{uuid.uuid4().hex[:8]}", **overrides)


async def _run(client: Client, settings: Settings, workflow: Any, arg: Any) -> WorkflowHandle:
    from worker import build_worker

    async with build_worker(client, settings):
        handle = await client.start_workflow(
            workflow, arg, id=f"record-{uuid.uuid4().hex[:8]}", task_queue=settings.task_queue
        )
        try:
            await handle.result()
        except Exception:
            pass  # failing scenarios are recorded too
    return handle


async def health_alert(client: Client, data_dir: Path) -> WorkflowHandle:
    settings = scenario_settings(data_dir, health={"memory_threshold": 0})
    return await _run(client, settings, HealthMonitorWorkflow.run, HealthCheckInput())


async def health_no_alert(client: Client, data_dir: Path) -> WorkflowHandle:
    settings = scenario_settings(data_dir, health=QUIET_HEALTH)
    return await _run(client, settings, HealthMonitorWorkflow.run, HealthCheckInput())


SCENARIOS: dict[str, Scenario] = {
    "health_alert": health_alert,
    "health_no_alert": health_no_alert,
}
"""History file name (without .json) -> the run that produces it."""
