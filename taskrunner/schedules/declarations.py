"""The runner's Temporal Schedules, declared in one place (health, queue processor, maintenance).

``apply_schedules`` (in taskrunner/schedules/apply.py) makes the server match these
declarations: create what is missing, update what changed, delete what we manage
but no longer declare, and never touch schedules we do not manage.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

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
from taskrunner.health.models import HealthCheckInput
from taskrunner.health.workflow import HealthMonitorWorkflow
from taskrunner.maintenance.daily import DailyMaintenanceWorkflow
from taskrunner.maintenance.models import maintenance_input
from taskrunner.queue.models import ProcessorInput
from taskrunner.queue.processor import TaskProcessorWorkflow
from taskrunner.settings import Settings
from taskrunner.settings.schedules import ScheduleSettings

MEMO_KEY = "taskrunner"
"""Schedule memo key marking a schedule as ours (its value: the task queue it serves)."""


@dataclass(frozen=True)
class Declaration:
    name: str
    workflow: Any
    """Workflow class the schedule starts (its ``run`` takes ``arg``)."""
    cron: Callable[[Settings], tuple[str, ...]]
    """The fire times (the user's ``schedules.<name>.cron`` replaces them)."""
    overlap: ScheduleOverlapPolicy
    catchup_window: timedelta
    """How late a missed run (server or worker down) may still start."""
    arg: Callable[[Settings], BaseModel]
    summary: str


DECLARATIONS: tuple[Declaration, ...] = (
    Declaration(
        name="health-monitor",
        workflow=HealthMonitorWorkflow,
        cron=lambda settings: ("*/5 * * * *",),
        # A check still running when the next is due makes the next one pointless.
        overlap=ScheduleOverlapPolicy.SKIP,
        catchup_window=timedelta(minutes=5),
        arg=lambda settings: HealthCheckInput(),
        summary="system metrics and service probes; critical alert when unhealthy",
    ),
    Declaration(
        name="task-processor",
        workflow=TaskProcessorWorkflow,
        cron=lambda settings: ("* * * * *",),
        # A drain still running a minute later is still draining: skip, never stack.
        overlap=ScheduleOverlapPolicy.SKIP,
        catchup_window=timedelta(minutes=1),
        arg=lambda settings: ProcessorInput(
            queue=settings.queue.name,
            drain_timeout_seconds=settings.queue.drain_timeout_seconds,
        ),
        summary="drain the default queue; warning when tasks failed",
    ),
    Declaration(
        name="maintenance",
        workflow=DailyMaintenanceWorkflow,
        cron=lambda settings: maintenance_fire_times(settings),
        # Two fire times a night (see maintenance_fire_times); a second one while the
        # first still runs has nothing to do.
        overlap=ScheduleOverlapPolicy.SKIP,
        catchup_window=timedelta(minutes=30),
        arg=lambda settings: maintenance_input(settings),
        summary="vacuum, analyze, backup once per night inside the window",
    ),
)
"""Every schedule the runner manages. Extended by the queue and maintenance modules."""


def maintenance_fire_times(settings: Settings) -> tuple[str, ...]:
    """The window's start (02:00 by default), plus its middle, as daily crons.

    Daylight saving can remove the window's first minutes (spring forward at 02:00)
    or repeat them (fall back); the middle of a window longer than the clock change
    still exists that day. DailyMaintenanceWorkflow runs maintenance only for the
    first fire of each night (the date its window opened, so a window over midnight is
    one night), and the second fire costs nothing on ordinary nights.
    """
    window = settings.maintenance
    start = datetime.combine(date(2000, 1, 1), window.window_start)
    end = datetime.combine(date(2000, 1, 1), window.window_end)
    if end <= start:
        end += timedelta(days=1)  # a window spanning midnight
    middle = start + (end - start) / 2
    # A very short window can give the same minute twice: keep it once.
    return tuple(dict.fromkeys(f"{t.minute} {t.hour} * * *" for t in (start, middle)))


def declaration(name: str) -> Declaration:
    for decl in DECLARATIONS:
        if decl.name == name:
            return decl
    known = ", ".join(d.name for d in DECLARATIONS)
    raise UserError(f"unknown schedule {name!r}; known schedules: {known}")


def fingerprint_of(content: dict[str, Any]) -> str:
    """A short hash of what apply would send (kept in the schedule's memo to compare)."""
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class DesiredSchedule:
    """A declaration with the settings applied: exactly what should exist on the server."""

    id: str
    declaration: Declaration
    cron: tuple[str, ...]
    paused: bool
    timezone: str
    task_queue: str
    arg: BaseModel

    @property
    def name(self) -> str:
        return self.declaration.name

    @property
    def kind(self) -> str:
        return "schedule"

    def fingerprint(self) -> str:
        """Changes whenever anything we would send changes (so apply can skip no-op updates)."""
        decl = self.declaration
        content = {
            "workflow": decl.workflow.__name__,
            "cron": self.cron,
            "timezone": self.timezone,
            "overlap": decl.overlap.name,
            "catchup": decl.catchup_window.total_seconds(),
            "task_queue": self.task_queue,
            "args": [self.arg.model_dump(mode="json")],
            "paused": self.paused,
        }
        return fingerprint_of(content)

    def to_schedule(self) -> Schedule:
        decl = self.declaration
        return Schedule(
            action=ScheduleActionStartWorkflow(
                decl.workflow.run,
                self.arg,
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
                cron=tuple(overrides.cron or decl.cron(settings)),
                paused=overrides.paused,
                timezone=settings.timezone,
                task_queue=settings.task_queue,
                arg=decl.arg(settings),
            )
        )
    return desired


def schedule_id(settings: Settings, name: str) -> str:
    """The server-side id of a declared schedule (unknown names are a UserError)."""
    return settings.schedules.id_prefix + declaration(name).name
