"""The runner's Temporal Schedules, declared in one place (the seed's cron section).

``apply_schedules`` (in taskrunner/schedule_ops.py) makes the server match these
declarations: create what is missing, update what changed, delete what we manage
but no longer declare, and never touch schedules we do not manage.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel
from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)

from taskrunner.errors import UserError
from taskrunner.models.health import HealthCheckInput
from taskrunner.schedule_settings import ScheduleSettings
from taskrunner.settings import Settings

MEMO_KEY = "taskrunner"
"""Schedule memo key marking a schedule as ours (its value: the task queue it serves)."""


@dataclass(frozen=True)
class Declaration:
    name: str
    workflow: str
    """Workflow type the schedule starts."""
    cron: tuple[str, ...]
    overlap: ScheduleOverlapPolicy
    catchup_window: timedelta
    """How late a missed run (server or worker down) may still start."""
    args: Callable[[Settings], list[BaseModel]]
    summary: str


DECLARATIONS: tuple[Declaration, ...] = (
    Declaration(
        name="health-monitor",
        workflow="HealthMonitorWorkflow",
        cron=("*/5 * * * *",),
        # A check still running when the next is due makes the next one pointless.
        overlap=ScheduleOverlapPolicy.SKIP,
        catchup_window=timedelta(minutes=5),
        args=lambda settings: [HealthCheckInput()],
        summary="system metrics and service probes; critical alert when unhealthy",
    ),
)
"""Every schedule the runner manages. Extended by the queue and maintenance modules."""


def declaration(name: str) -> Declaration:
    for decl in DECLARATIONS:
        if decl.name == name:
            return decl
    known = ", ".join(d.name for d in DECLARATIONS)
    raise UserError(f"unknown schedule {name!r}; known schedules: {known}")


@dataclass(frozen=True)
class DesiredSchedule:
    """A declaration with the settings applied: exactly what should exist on the server."""

    id: str
    declaration: Declaration
    cron: tuple[str, ...]
    paused: bool
    timezone: str
    task_queue: str
    args: tuple[BaseModel, ...]

    def fingerprint(self) -> str:
        """Changes whenever anything we would send changes (so apply can skip no-op updates)."""
        decl = self.declaration
        content = {
            "workflow": decl.workflow,
            "cron": self.cron,
            "timezone": self.timezone,
            "overlap": decl.overlap.name,
            "catchup": decl.catchup_window.total_seconds(),
            "task_queue": self.task_queue,
            "args": [a.model_dump(mode="json") for a in self.args],
            "paused": self.paused,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]

    def to_schedule(self) -> Schedule:
        decl = self.declaration
        return Schedule(
            action=ScheduleActionStartWorkflow(
                decl.workflow,
                args=list(self.args),
                id=f"{self.id}/run",
                task_queue=self.task_queue,
                memo={
                    MEMO_KEY: {
                        "schedule": decl.name,
                        "fingerprint": self.fingerprint(),
                        "paused": self.paused,
                        "cron": list(self.cron),
                    }
                },
            ),
            spec=ScheduleSpec(cron_expressions=list(self.cron), time_zone_name=self.timezone),
            policy=SchedulePolicy(overlap=decl.overlap, catchup_window=decl.catchup_window),
            state=ScheduleState(
                paused=self.paused, note="paused at start (settings)" if self.paused else None
            ),
        )


def schedule_settings(settings: Settings, name: str) -> ScheduleSettings:
    overrides: ScheduleSettings = getattr(settings.schedules, name.replace("-", "_"))
    return overrides


def desired_schedules(settings: Settings) -> list[DesiredSchedule]:
    """The enabled declarations with the user's overrides, ready to apply."""
    desired = []
    for decl in DECLARATIONS:
        overrides = schedule_settings(settings, decl.name)
        if not overrides.enabled:
            continue
        desired.append(
            DesiredSchedule(
                id=settings.schedules.id_prefix + decl.name,
                declaration=decl,
                cron=tuple(overrides.cron or decl.cron),
                paused=overrides.paused,
                timezone=settings.timezone,
                task_queue=settings.task_queue,
                args=tuple(decl.args(settings)),
            )
        )
    return desired


def schedule_id(settings: Settings, name: str) -> str:
    """The server-side id of a declared schedule (unknown names are a UserError)."""
    return settings.schedules.id_prefix + declaration(name).name
