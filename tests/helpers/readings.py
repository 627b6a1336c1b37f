"""Health readings a test sets, so no test depends on how loaded this machine is.

Both are ``SystemReader``s (``taskrunner.health.readings``), given to the real worker
with ``build_worker(system_reader=...)``: the workflow, thresholds and alerting run
as in production, only the numbers come from the test. ``check_health`` runs one
health check that way.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from taskrunner.health.models import HealthCheckInput, HealthReport
from taskrunner.health.readings import Readings, SystemReader
from taskrunner.health.workflow import HealthMonitorWorkflow
from taskrunner.settings import Settings
from taskrunner.settings.health import HealthSettings

CALM = Readings(cpu=12.0, memory=40.0, disk=30.0)
"""Well under the default thresholds (90%)."""


class SetReadings:
    """Readings the test changes between runs: ``reader.set(memory=95)``."""

    def __init__(self, readings: Readings = CALM) -> None:
        self.now = readings

    def set(self, **values: float) -> None:
        self.now = Readings(**{**self.now.model_dump(), **values})

    async def read(self, settings: HealthSettings) -> Readings:
        return self.now


class FileReadings:
    """Readings from a JSON file, read at every check: for a worker in another process."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @staticmethod
    def write(path: Path, **values: Any) -> None:
        path.write_text(json.dumps(Readings(**{**CALM.model_dump(), **values}).model_dump()))

    async def read(self, settings: HealthSettings) -> Readings:
        return Readings.model_validate_json(self.path.read_text())


async def start_health(client: Client, settings: Settings) -> WorkflowHandle[Any, HealthReport]:
    """One HealthMonitorWorkflow run on the settings' task queue (a worker must poll it)."""
    return await client.start_workflow(
        HealthMonitorWorkflow.run,
        HealthCheckInput(),
        id=f"health-{uuid.uuid4()}",
        task_queue=settings.task_queue,
    )


async def check_health(
    client: Client, make_worker: Any, settings: Settings, readings: SystemReader | None = None
) -> HealthReport:
    """One health check on a real worker of its own that reads ``readings`` (None: psutil)."""
    async with make_worker(client, settings, system_reader=readings):
        return await (await start_health(client, settings)).result()
