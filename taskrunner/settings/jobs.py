"""Periodic jobs (``[[jobs]]``): a task enqueued on a cron or an interval.

Each job becomes one Temporal Schedule (see taskrunner/jobs/). What can be checked
without the task types is checked here, at load; the task type and payload are
checked against the worker's task types when the jobs are applied, because loading
them imports the user's task modules.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from taskrunner.queue.models import QUEUE_NAME_PATTERN
from taskrunner.schedules.cron import validate_cron
from taskrunner.timezones import validate_timezone

JOB_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,62}$"
"""A job's name is a slug: it is part of its schedule's id and of its tasks' keys."""
DEFAULT_CATCHUP = timedelta(minutes=15)
"""A fire missed while the server was down still runs if it is at most this late."""
MIN_CATCHUP = timedelta(seconds=10)
"""The server's own floor for a schedule's catch-up window."""
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(value: Any) -> timedelta:
    """``"15m"``, ``"1h30m"``, ``"90s"``, ``"1d"`` (or a number of seconds) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    text = str(value).strip().lower().replace(" ", "")
    found = _DURATION.match(text)
    if not text or found is None:
        raise ValueError(f"{value!r} is not a duration such as 30s, 15m, 1h30m or 1d")
    days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def duration_text(value: timedelta) -> str:
    """The short form parse_duration reads: ``1h30m``, ``15m``, ``0s``."""
    seconds = int(value.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"


class JobSettings(BaseModel):
    """One periodic job (see the README's "Periodic jobs" section)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=JOB_NAME_PATTERN)
    """Lowercase letters, digits and '-': the schedule is ``job-<name>``."""
    task: str = Field(min_length=1)
    """The task type each fire enqueues."""
    payload: dict[str, Any] = Field(default_factory=dict)
    cron: list[str] | None = None
    """Five-field cron expressions, in ``timezone`` (exactly one of cron and every)."""
    every: timedelta | None = None
    """An interval such as ``15m`` or ``1h30m``, counted from the Unix epoch."""
    timezone: str | None = None
    """IANA zone of the cron and of naive start/end times (default: the top-level one)."""
    jitter: timedelta = timedelta(0)
    """Each fire starts up to this much later, at random (spreads load)."""
    start: date | datetime | None = None
    """No fire before this (a date: its midnight; naive: in ``timezone``)."""
    end: date | datetime | None = None
    """No fire after this (a date: through the end of that day; naive: in ``timezone``)."""
    paused: bool = False
    """Create the schedule paused (an operator's pause survives later applies)."""
    overlap: Literal["skip", "allow"] = "skip"
    """skip: no fire while the previous fire's task is pending or running; allow: always."""
    catchup_window: timedelta = DEFAULT_CATCHUP
    """How late a fire missed while the server was down may still run."""
    queue: str | None = Field(default=None, pattern=QUEUE_NAME_PATTERN)
    """The queue the task goes to (default: ``queue.name``)."""
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    once_per_local_day: bool | None = None
    """One task per local day whatever daylight saving does. None: on for a single cron
    with one fixed hour and minute (``30 2 * * *``), off otherwise."""

    @field_validator("every", "jitter", "catchup_window", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().upper().startswith("P")):
            return value  # ISO 8601 (PT15M, as a dumped job has it): pydantic reads it
        return parse_duration(value)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, crons: list[str] | None) -> list[str] | None:
        if crons is not None and not crons:
            raise ValueError("give at least one cron expression, or use every")
        return [validate_cron(c) for c in crons] if crons else crons

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else validate_timezone(value)

    @model_validator(mode="after")
    def _consistent(self) -> JobSettings:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of cron and every")
        if self.every is not None and self.every < timedelta(seconds=1):
            raise ValueError("every must be at least 1s")
        if self.catchup_window < MIN_CATCHUP:
            raise ValueError("catchup_window must be at least 10s")
        if self.once_per_local_day and fixed_time(self.cron) is None:
            raise ValueError(
                "once_per_local_day needs a single cron expression with one fixed minute "
                "and hour, such as '30 2 * * *'"
            )
        return self

    @property
    def daily(self) -> bool:
        """Whether this job runs once per local day (see ``once_per_local_day``)."""
        if self.once_per_local_day is None:
            return fixed_time(self.cron) is not None
        return self.once_per_local_day


def fixed_time(crons: list[str] | None) -> tuple[int, int] | None:
    """(hour, minute) of a single cron expression that names one of each, else None."""
    if not crons or len(crons) != 1:
        return None
    minute, hour = crons[0].split()[:2]
    return (int(hour), int(minute)) if minute.isdigit() and hour.isdigit() else None


def _unique(jobs: list[JobSettings]) -> list[JobSettings]:
    seen: set[str] = set()
    for job in jobs:
        if job.name in seen:
            raise ValueError(f"job name {job.name!r} is used twice")
        seen.add(job.name)
    return jobs


JobList = Annotated[list[JobSettings], AfterValidator(_unique)]
"""The ``jobs`` setting: names are unique."""
