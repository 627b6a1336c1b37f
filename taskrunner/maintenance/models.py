"""Inputs and results of the maintenance workflow and its database activities."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator, model_validator

from taskrunner.timezones import validate_timezone

if TYPE_CHECKING:
    from taskrunner.settings import Settings

SKIP_REASON = "Outside maintenance window - skipping"
"""What a run that found the window closed reports."""


DEFAULT_WINDOW_START = time(2, 0)
"""Start of the maintenance window, local time (2 AM)."""
DEFAULT_WINDOW_END = time(4, 0)
"""End of the maintenance window, local time, exclusive (4 AM)."""


def in_window(at: time, start: time, end: time) -> bool:
    """Whether local time ``at`` is in [start, end); an end before the start spans midnight."""
    if start < end:
        return start <= at < end
    return at >= start or at < end


class MaintenanceWindow(BaseModel):
    """A daily window of local time; the ``[maintenance]`` settings and the input share it."""

    window_start: time = DEFAULT_WINDOW_START
    window_end: time = DEFAULT_WINDOW_END
    """Exclusive; a window_end before window_start spans midnight (e.g. 23:00-01:00)."""

    @model_validator(mode="after")
    def _not_empty(self) -> MaintenanceWindow:
        if self.window_start == self.window_end:
            raise ValueError("window_start and window_end must differ")
        return self

    def is_window_open_at(self, local: datetime) -> bool:
        return in_window(local.time(), self.window_start, self.window_end)

    def night_of(self, local: datetime) -> date:
        """The night ``local`` belongs to: the date on which the window last opened.

        For a window over midnight (23:00-01:00) 23:00 and 00:30 are the same night,
        the date of 23:00. A time before the window's start belongs to the previous
        night, whose window has closed: nothing runs for it any more.
        """
        opened_today = local.time() >= self.window_start
        return local.date() if opened_today else local.date() - timedelta(days=1)

    @property
    def window(self) -> str:
        return f"{self.window_start:%H:%M}-{self.window_end:%H:%M}"


class MaintenanceInput(MaintenanceWindow):
    """Input of MaintenanceWorkflow: the window and target names, from the settings.

    Workflows cannot read settings: the caller (CLI or schedule) builds this with
    :func:`maintenance_input`.
    """

    force: bool = False
    """Run even outside the window (manual runs)."""
    timezone: str = "UTC"
    """IANA zone the window is read in."""
    targets: list[str] = Field(min_length=1)
    """Names of the worker's configured targets (``maintenance.targets``), in order."""
    as_of: datetime | None = None
    """Judge the window at this instant instead of now: a scheduled run passes its
    scheduled time, so a run started a little late (or backfilled) counts for its slot."""

    _check_tz = field_validator("timezone")(lambda cls, v: validate_timezone(v))

    def local_time(self, now: datetime) -> datetime:
        """``now`` (aware) in the input's zone.

        Called from workflow code: this module is passed through the sandbox, so it
        uses the real ZoneInfo; the sandbox's proxied ZoneInfo is not a tzinfo and
        ``astimezone`` rejects it. Zone data is read once and cached, same on replay.
        """
        return now.astimezone(ZoneInfo(self.timezone))


class TargetInput(BaseModel):
    """Input of each database activity: which configured target to work on."""

    target: str


class TargetInfo(BaseModel):
    """What ``inspect_target`` found: whether there is a database to maintain yet."""

    target: str
    engine: str
    location: str
    exists: bool
    """False only for the default SQLite file before anything created it."""
    detail: str | None = None
    """Why there is nothing to maintain (when ``exists`` is False)."""


class TargetOutcome(BaseModel):
    """How one target's maintenance ended; every target runs on its own."""

    target: str
    status: Literal["completed", "failed", "absent"]
    """``absent``: nothing to maintain yet (the default database does not exist yet)."""
    step: str | None = None
    """The step that failed (``vacuum``, ``analyze``, ``backup``, ``retention``, ...)."""
    error: str | None = None
    """Why it failed (never a password), or what was absent."""
    error_type: str | None = None


class BackupProgress(BaseModel):
    """Heartbeat details of a running backup: how far it got."""

    bytes_written: int


class _StepResult(BaseModel):
    target: str
    engine: str
    location: str
    """SQLite file or PostgreSQL host:port/database (never a password)."""
    duration_seconds: float


class VacuumResult(_StepResult):
    size_before: int
    size_after: int

    @property
    def freed_bytes(self) -> int:
        # A database written to while it is vacuumed can end up larger; nothing was freed then.
        return max(self.size_before - self.size_after, 0)


class AnalyzeResult(_StepResult):
    tables: int


class BackupResult(_StepResult):
    file: str
    size_bytes: int
    tables: int
    """Tables found in the backup when it was verified."""
    verification: str
    """What the check saw, e.g. ``integrity_check ok`` or ``pg_restore --list: 12 entries``."""
    removed_partials: list[str] = Field(default_factory=list)
    """Unfinished backups of killed attempts, deleted before this one was written."""


class PruneResult(BaseModel):
    target: str
    kept: list[str]
    removed: list[str]


class MaintenanceReport(BaseModel):
    status: Literal["completed", "partial", "skipped"]
    """``partial``: some targets failed, the others were maintained."""
    reason: str | None = None
    """Why it was skipped."""
    forced: bool
    window_open: bool
    window: str
    timezone: str
    local_time: str
    """When the run started, in ``timezone`` (ISO 8601 with offset)."""
    vacuum: list[VacuumResult] = Field(default_factory=list)
    analyze: list[AnalyzeResult] = Field(default_factory=list)
    backups: list[BackupResult] = Field(default_factory=list)
    pruned: list[PruneResult] = Field(default_factory=list)
    targets: list[TargetOutcome] = Field(default_factory=list)
    """Every target's outcome, in order."""
    summary: str | None = None
    """The completion notification's text."""
    duration_seconds: float = 0.0


WORKFLOW_ID_PREFIX = "maintenance"
"""Maintenance workflow ids start with this (``maintenance/manual-...``)."""


def maintenance_workflow_id(run: str) -> str:
    """The id of one MaintenanceWorkflow run started outside its schedule."""
    return f"{WORKFLOW_ID_PREFIX}/{run}"


def maintenance_input(settings: Settings, force: bool = False) -> MaintenanceInput:
    """The workflow input from settings: window, time zone and target names.

    The workflow cannot read settings itself; a schedule stores this input, so
    re-apply the schedules after changing the window, zone or targets.
    """
    window = settings.maintenance.model_dump(include=set(MaintenanceWindow.model_fields))
    return MaintenanceInput(
        **window,
        force=force,
        timezone=settings.timezone,
        targets=[t.name for t in settings.maintenance_targets()],
    )
