"""System metrics and service probes: the health monitor's view of the world."""

from __future__ import annotations

import asyncio
import time

import httpx
from temporalio import activity

from taskrunner.health.models import (
    Metric,
    ServiceReport,
    SystemMetrics,
)
from taskrunner.health.probes import run_probe
from taskrunner.health.readings import PsutilReader, SystemReader
from taskrunner.observability.metrics import activity_meter, set_health_metric, set_probe_up
from taskrunner.settings.health import HealthSettings


class MonitoringActivities:
    """Health activities; built by the worker with the health settings.

    Args:
        settings: Thresholds, the API URL and the probes.
        reader: Where CPU, memory and disk readings come from; this machine by default.
    """

    def __init__(self, settings: HealthSettings, reader: SystemReader | None = None) -> None:
        self.settings = settings
        self.reader: SystemReader = reader or PsutilReader()

    @activity.defn(name="collect_system_metrics")
    async def collect_system_metrics(self) -> SystemMetrics:
        """CPU, memory and disk use with their thresholds, and the API's response time."""
        s = self.settings
        reading = await self.reader.read(s)
        response_ms, response_error = await self._api_response_time()
        meter = activity_meter()
        for name, value in (
            ("cpu", reading.cpu),
            ("memory", reading.memory),
            ("disk", reading.disk),
        ):
            set_health_metric(meter, name, value)
        if response_ms is not None:
            set_health_metric(meter, "response_time_ms", response_ms)
        return SystemMetrics(
            cpu=_metric("CPU", reading.cpu, s.cpu_threshold, s.cpu_critical_threshold),
            memory=_metric(
                "Memory", reading.memory, s.memory_threshold, s.memory_critical_threshold
            ),
            disk=_metric("Disk", reading.disk, s.disk_threshold, s.disk_critical_threshold),
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
        for status in statuses:
            set_probe_up(activity_meter(), status.name, status.up)
        return ServiceReport(services=list(statuses))


def _metric(name: str, value: float, threshold: float, critical: float | None) -> Metric:
    return Metric(
        name=name, value=round(value, 1), threshold=threshold, critical_threshold=critical
    )
