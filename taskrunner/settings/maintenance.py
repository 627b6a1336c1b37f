"""Settings of scheduled maintenance: the window, its databases, backup retention."""

from __future__ import annotations

from pathlib import Path

from pydantic import ConfigDict, Field, model_validator

from taskrunner.maintenance.models import MaintenanceWindow
from taskrunner.settings.resources import DatabaseTarget

DEFAULT_KEEP_BACKUPS = 7
"""Backups kept per maintenance target; older ones are deleted after a good backup."""


class MaintenanceSettings(MaintenanceWindow):
    """The maintenance window (in ``Settings.timezone``), its databases and backup retention."""

    model_config = ConfigDict(extra="forbid")

    targets: list[DatabaseTarget] = Field(default_factory=list)
    """Databases to maintain; empty means the application database (``database``)."""
    keep_backups: int = Field(default=DEFAULT_KEEP_BACKUPS, ge=1)
    pg_bin_dir: Path | None = None
    """Folder holding pg_dump and pg_restore; None means the PATH."""

    @model_validator(mode="after")
    def _unique_targets(self) -> MaintenanceSettings:
        names = [t.name for t in self.targets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"target names must be unique, repeated: {', '.join(dupes)}")
        return self
