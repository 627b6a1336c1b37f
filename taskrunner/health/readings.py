"""Where the health monitor's CPU, memory and disk readings come from.

``MonitoringActivities`` asks a ``SystemReader`` for one ``Readings``; the worker's
default, ``PsutilReader``, measures this machine. Another source (a container's
cgroup, an agent's export, fixed numbers in a test) is a class with the same
``read`` method, passed to ``build_worker(system_reader=...)``: the workflow and
its thresholds do not change.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import psutil
from pydantic import BaseModel, Field

from taskrunner.settings.health import HealthSettings


class Readings(BaseModel):
    """One reading of the machine: each value is a percentage in use."""

    cpu: float = Field(ge=0, le=100)
    memory: float = Field(ge=0, le=100)
    disk: float = Field(ge=0, le=100)


class SystemReader(Protocol):
    """A source of readings; ``settings`` say what to measure (sample time, disk path)."""

    async def read(self, settings: HealthSettings) -> Readings: ...


class PsutilReader:
    """This machine, through psutil: CPU over ``cpu_sample_seconds``, memory, ``disk_path``."""

    async def read(self, settings: HealthSettings) -> Readings:
        cpu = await asyncio.to_thread(psutil.cpu_percent, interval=settings.cpu_sample_seconds)
        memory = psutil.virtual_memory().percent
        disk = (await asyncio.to_thread(psutil.disk_usage, str(settings.disk_path))).percent
        return Readings(cpu=cpu, memory=memory, disk=disk)
