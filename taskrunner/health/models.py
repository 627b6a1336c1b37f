"""Inputs and results of the health monitor."""

from __future__ import annotations

from pydantic import BaseModel, Field


class HealthCheckInput(BaseModel):
    """Input of HealthMonitorWorkflow. Thresholds come from the worker's settings."""

    notify: bool = True


class Metric(BaseModel):
    name: str
    value: float
    threshold: float | None = None
    critical_threshold: float | None = None
    """At or above it, the breach makes the health alert critical; None: no such level."""
    unit: str = "%"

    @property
    def breached(self) -> bool:
        return self.threshold is not None and self.value >= self.threshold

    @property
    def critical(self) -> bool:
        return self.critical_threshold is not None and self.value >= self.critical_threshold

    def breach_text(self) -> str:
        """``95.2% (threshold 90%)``, or ``99.1% (critical threshold 98%)``."""
        if self.critical:
            return f"{self.value:.1f}% (critical threshold {self.critical_threshold:g}%)"
        return f"{self.value:.1f}% (threshold {self.threshold:g}%)"


class SystemMetrics(BaseModel):
    cpu: Metric
    memory: Metric
    disk: Metric
    response_time_ms: float | None = None
    response_error: str | None = None

    def breaches(self) -> list[Metric]:
        return [m for m in (self.cpu, self.memory, self.disk) if m.breached]


class ServiceStatus(BaseModel):
    name: str
    kind: str
    up: bool
    latency_ms: float
    detail: str | None = None
    """Why it is down (or a short note when up)."""


class ServiceReport(BaseModel):
    services: list[ServiceStatus] = Field(default_factory=list)

    @property
    def all_up(self) -> bool:
        return all(s.up for s in self.services)

    def down(self) -> list[ServiceStatus]:
        return [s for s in self.services if not s.up]


class HealthReport(BaseModel):
    healthy: bool
    all_up: bool
    metrics: SystemMetrics
    services: list[ServiceStatus]
    alerted: bool
    alert_message: str | None = None
    alert_sent: bool = False
    """The alert paged (not when notify was off, nor when it only updated the open alert)."""
    checked_at: str

    def problems(self) -> list[str]:
        """What is wrong, shortly: each metric at or over its threshold, each service down."""
        found = [f"{m.name} {m.breach_text()}" for m in self.metrics.breaches()]
        return found + [f"service {s.name} is DOWN" for s in self.services if not s.up]


def health_workflow_id(run: str) -> str:
    """The id of one HealthMonitorWorkflow run started outside its schedule."""
    return f"health-monitor/{run}"
