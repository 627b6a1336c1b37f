"""Settings of scheduled maintenance: the window, its databases, backup retention."""

from __future__ import annotations

from datetime import time
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from taskrunner.settings.resources import DatabaseTarget

DEFAULT_WINDOW_START = time(2, 0)
"""Start of the maintenance window, local time (the seed's 2 AM)."""


DEFAULT_WINDOW_END = time(4, 0)
"""End of the maintenance window, local time, exclusive (the seed's 4 AM)."""


DEFAULT_KEEP_BACKUPS = 7
"""Backups kept per maintenance target; older ones are deleted after a good backup."""


class MaintenanceSettings(BaseModel):
    """The maintenance window (in ``Settings.timezone``), its databases and backup retention."""

    window_start: time = DEFAULT_WINDOW_START
    window_end: time = DEFAULT_WINDOW_END
    """Exclusive; a window_end before window_start spans midnight (e.g. 23:00-01:00)."""
    targets: list[DatabaseTarget] = Field(default_factory=list)
    """Databases to maintain; empty means the application database (``database``)."""
    keep_backups: int = Field(default=DEFAULT_KEEP_BACKUPS, ge=1)
    pg_bin_dir: Path | None = None
    """Folder holding pg_dump and pg_restore; None means the PATH."""

    @model_validator(mode="after")
    def _check(self) -> MaintenanceSettings:
        if self.window_start == self.window_end:
            raise ValueError("window_start and window_end must differ")
        names = [t.name for t in self.targets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"target names must be unique, repeated: {', '.join(dupes)}")
        return self
