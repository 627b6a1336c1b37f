"""The facts ``taskrunner status`` prints and the dashboard's overview shows.

One model, collected by ``taskrunner.status.collect.collect_status`` through the same
client code as the CLI, rendered as text (``taskrunner status``), JSON (``--json``)
and HTML (the dashboard). Every field that may be unknown says so with None.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from taskrunner.health.models import HealthReport
from taskrunner.maintenance.models import TargetOutcome
from taskrunner.queue.models import QueueStats


class ServerFact(BaseModel):
    address: str
    namespace: str
    reachable: bool
    error: str | None = None
    """Why it is not reachable (one line)."""


class WorkerFact(BaseModel):
    """A poller of the runner's task queue, as the server last saw it."""

    identity: str
    last_seen: datetime | None = None
    polls: list[str] = Field(default_factory=list)
    """What it polls for: ``workflow``, ``activity`` or both."""


class QueueFact(BaseModel):
    name: str
    stats: QueueStats | None = None
    """None: the queue could not be asked (``error`` says why)."""
    completed_per_minute: float | None = None
    """Tasks completed per minute over the last ``rate_window_minutes``, read from the
    queue's window of recent completed tasks (when that window holds less time, over what
    it holds). None: unknown."""
    rate_window_minutes: int = 5
    error: str | None = None


class ScheduleFact(BaseModel):
    kind: str = "schedule"
    """``schedule`` (one of the runner's declared schedules) or ``job`` (a periodic job)."""
    name: str
    id: str
    paused: bool
    cron: list[str]
    """Cron expressions (a job's spec may read ``every 15m``)."""
    timezone: str
    last_run: datetime | None = None
    last_result: str | None = None
    """The last run's status: completed, failed, running, ..."""
    last_workflow_id: str | None = None
    next_run: datetime | None = None
    error: str | None = None
    """Why it could not be read (e.g. not applied to the server yet)."""


class AlertFact(BaseModel):
    source: str
    alert: str
    priority: str
    since: datetime
    updated_at: datetime | None = None
    message: str


class MaintenanceFact(BaseModel):
    """The last maintenance run's outcome for one target."""

    finished_at: datetime | None = None
    workflow_id: str | None = None
    """The MaintenanceWorkflow run that reported it."""
    outcome: TargetOutcome


class Status(BaseModel):
    collected_at: datetime
    server: ServerFact
    task_queue: str
    workers: list[WorkerFact] = Field(default_factory=list)
    queues: list[QueueFact] = Field(default_factory=list)
    schedules: list[ScheduleFact] = Field(default_factory=list)
    health: HealthReport | None = None
    """The last health monitor run's report (None: none finished yet)."""
    health_at: datetime | None = None
    health_workflow_id: str | None = None
    alerts: list[AlertFact] | None = None
    """Open alerts; None: the alert state file is not on this machine."""
    maintenance: list[MaintenanceFact] = Field(default_factory=list)
    errors: dict[str, str] = Field(default_factory=dict)
    """Parts that could not be collected (``workers``, ``queues``, ``schedules``, ``jobs``,
    ``health``, ``maintenance``, ``alerts``): why, in one line each."""
