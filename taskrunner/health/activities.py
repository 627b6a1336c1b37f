"""System metrics from psutil and service probes: the health monitor's view of the world."""

from __future__ import annotations

import asyncio
import time

import httpx
import psutil
from temporalio import activity

from taskrunner.health.models import (
    Metric,
    ServiceReport,
    SystemMetrics,
)
from taskrunner.health.probes import run_probe
from taskrunner.settings.health import HealthSettings


class MonitoringActivities:
    """Health activities; built by the worker with the health settings."""

    def __init__(self, settings: HealthSettings) -> None:
        self.settings = settings

    @activity.defn(name="collect_system_metrics")
    async def collect_system_metrics(self) -> SystemMetrics:
        """CPU, memory and disk use with their thresholds, and the API's response time."""
        s = self.settings
        cpu = await asyncio.to_thread(psutil.cpu_percent, interval=s.cpu_sample_seconds)
        memory = psutil.virtual_memory().percent
        disk = (await asyncio.to_thread(psutil.disk_usage, str(s.disk_path))).percent
        response_ms, response_error = await self._api_response_time()
        return SystemMetrics(
            cpu=Metric(name="CPU", value=round(cpu, 1), threshold=s.cpu_threshold),
            memory=Metric(name="Memory", value=round(memory, 1), threshold=s.memory_threshold),
            disk=Metric(name="Disk", value=round(disk, 1), threshold=s.disk_threshold),
            response_time_ms=response_ms,
            response_error=response_error,
        )

    async def _api_response_time(self) -> tuple[float | None, str | None]:
        if not self.settings.api_url:
            return None, None
        started = time.perf_counter()
        try:
            async with httpx.AsyncClient(timeout=self.settings.api_timeout_seconds) as http:
                response = await http.get(self.settings.api_url)
        except httpx.HTTPError as err:
            return None, f"{type(err).__name__}: {err}"[:300]
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        error = None if response.status_code < 500 else f"HTTP {response.status_code}"
        return elapsed, error

    @activity.defn(name="check_services")
    async def check_services(self) -> ServiceReport:
        """Every configured probe, concurrently, each under its own timeout."""
        statuses = await asyncio.gather(*(run_probe(p) for p in self.settings.probes))
        return ServiceReport(services=list(statuses))
