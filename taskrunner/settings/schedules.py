"""Per-schedule overrides of the declarations in taskrunner/schedules/declarations.py."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from taskrunner.schedules.cron import validate_cron


class ScheduleSettings(BaseModel):
    """Overrides for one declared schedule (see taskrunner/schedules/declarations.py)."""

    model_config = ConfigDict(extra="forbid")

    cron: list[str] | None = None
    """Cron expressions replacing the declared ones (None keeps the declaration's)."""
    paused: bool = False
    """Create the schedule paused."""
    enabled: bool = True
    """False: `schedules apply` deletes it (or never creates it)."""

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, crons: list[str] | None) -> list[str] | None:
        if crons is not None and not crons:
            raise ValueError("give at least one cron expression, or leave cron unset")
        return [validate_cron(c) for c in crons] if crons else crons


class SchedulesSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_prefix: str = ""
    """Prefix of schedule ids, to run several independent runners in one namespace."""
    health_monitor: ScheduleSettings = Field(default_factory=ScheduleSettings)
    task_processor: ScheduleSettings = Field(default_factory=ScheduleSettings)
    maintenance: ScheduleSettings = Field(default_factory=ScheduleSettings)
