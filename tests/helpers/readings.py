"""Health readings a test sets, so no test depends on how loaded this machine is.

Both are ``SystemReader``s (``taskrunner.health.readings``), given to the real worker
with ``build_worker(system_reader=...)``: the workflow, thresholds and alerting run
as in production, only the numbers come from the test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from taskrunner.health.readings import Readings
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
