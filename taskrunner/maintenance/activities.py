"""Maintenance activities: vacuum, analyze, back up and prune, for each configured target.

The databases (``taskrunner.databases``) do the work in a thread; these
activities add what is common: finding the target, timing, heartbeats (with a
backup's progress), and the backup files (``backups.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from taskrunner.databases import Database, SqliteDatabase, open_database
from taskrunner.databases.sqlite import missing_file
from taskrunner.errors import BACKUP_FOLDER_ERROR, configuration_error
from taskrunner.maintenance.backups import (
    PARTIAL_SUFFIX,
    backup_name,
    claimed,
    prune,
    remove_unclaimed_partials,
    safe_name,
)
from taskrunner.maintenance.models import (
    AnalyzeResult,
    BackupProgress,
    BackupResult,
    PruneResult,
    TargetInfo,
    TargetInput,
    VacuumResult,
)
from taskrunner.settings import Settings
from taskrunner.settings.resources import DatabaseTarget

T = TypeVar("T")

DEFAULT_HEARTBEAT_INTERVAL = timedelta(seconds=10)
"""Heartbeat period when the activity has no heartbeat timeout (a third of it otherwise)."""
NOT_CREATED_YET = "{path} does not exist yet; the first report or dataSync task creates it"
"""What an absent default application database says: a fresh install, not an error."""


class DatabaseActivities:
    """Built by the worker with the settings that name the targets and the backups folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _target(self, name: str) -> DatabaseTarget:
        targets = self.settings.maintenance_targets()
        for target in targets:
            if target.name == name:
                return target
        known = ", ".join(t.name for t in targets)
        raise configuration_error(
            f"unknown maintenance target {name!r} (this worker has: {known}); "
            "check maintenance.targets on the worker and the caller"
        )

    def _engine(self, name: str) -> tuple[DatabaseTarget, Database]:
        target = self._target(name)
        return target, open_database(target, self.settings)

    @activity.defn(name="inspect_target")
    async def inspect_target(self, params: TargetInput) -> TargetInfo:
        """Whether there is a database to maintain yet.

        The default SQLite file (a target without ``path``) is created by the first
        task that uses it: before that there is nothing to maintain, which is not an
        error. A file the settings name explicitly must exist (``ConfigurationError``).
        """
        target, engine = self._engine(params.target)
        info = TargetInfo(
            target=target.name, engine=target.kind, location=engine.location, exists=True
        )
        if isinstance(engine, SqliteDatabase) and not engine.path.is_file():
            if target.path is not None:
                raise missing_file(engine.path)
            info.exists = False
            info.detail = NOT_CREATED_YET.format(path=engine.path)
        return info

    @activity.defn(name="vacuum_database")
    async def vacuum_database(self, params: TargetInput) -> VacuumResult:
        target, engine = self._engine(params.target)
        started = time.perf_counter()
        change = await run_heartbeating(engine.vacuum, engine.interrupt)
        return VacuumResult(
            **step_fields(target, engine, started),
            size_before=change.before,
            size_after=change.after,
        )

    @activity.defn(name="analyze_database")
    async def analyze_database(self, params: TargetInput) -> AnalyzeResult:
        target, engine = self._engine(params.target)
        started = time.perf_counter()
        tables = await run_heartbeating(engine.analyze, engine.interrupt)
        return AnalyzeResult(**step_fields(target, engine, started), tables=tables)

    @activity.defn(name="backup_database")
    async def backup_database(self, params: TargetInput) -> BackupResult:
        """Back up into ``<backups_dir>/<target>/``, verified before it gets its final name."""
        target, engine = self._engine(params.target)
        folder = (self.settings.backups_dir / safe_name(target.name)).absolute()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ApplicationError(
                f"cannot create backup folder {folder}: {err.strerror or err}",
                type=BACKUP_FOLDER_ERROR,
            ) from None
        # Leftovers of killed attempts first: a large one could leave no room for this one.
        stale = remove_unclaimed_partials(folder, target.name)
        final = folder / backup_name(target.name, datetime.now(UTC), engine.suffix)
        # Written under a name retention never matches, renamed only once verified:
        # a half-written or corrupt backup never replaces a good one.
        partial = final.with_name(final.name + PARTIAL_SUFFIX)
        started = time.perf_counter()
        try:
            with claimed(partial):
                check = await run_heartbeating(
                    lambda: engine.backup(partial), engine.interrupt, lambda: _progress(partial)
                )
                partial.rename(final)
        finally:
            partial.unlink(missing_ok=True)
        return BackupResult(
            **step_fields(target, engine, started),
            file=str(final),
            size_bytes=final.stat().st_size,
            tables=check.tables,
            verification=check.verification,
            removed_partials=[str(p) for p in stale],
        )

    @activity.defn(name="prune_backups")
    async def prune_backups(self, params: TargetInput) -> PruneResult:
        """Keep the newest ``maintenance.keep_backups`` backups of the target, delete the rest."""
        target = self._target(params.target)
        folder = self.settings.backups_dir / safe_name(target.name)
        kept, removed = prune(folder, target.name, self.settings.maintenance.keep_backups)
        return PruneResult(
            target=target.name, kept=[str(p) for p in kept], removed=[str(p) for p in removed]
        )


def step_fields(target: DatabaseTarget, engine: Database, started: float) -> dict[str, Any]:
    """What every step's result says: which target, where, and how long it took."""
    return {
        "target": target.name,
        "engine": target.kind,
        "location": engine.location,
        "duration_seconds": round(time.perf_counter() - started, 3),
    }


async def run_heartbeating(
    work: Callable[[], T],
    interrupt: Callable[[], None],
    progress: Callable[[], Any] | None = None,
) -> T:
    """Run blocking ``work`` in a thread, heartbeating until it ends.

    Each heartbeat carries ``progress()`` when given (shown with the pending activity
    in the web UI). On cancellation (or a heartbeat timeout seen by the server)
    ``interrupt`` stops the database operation, so a retry does not race a
    still-running attempt.
    """
    task = asyncio.ensure_future(asyncio.to_thread(work))
    interval = _heartbeat_interval().total_seconds()
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=interval)
            if done:
                return task.result()
            activity.heartbeat(*(() if progress is None else (progress(),)))
    except asyncio.CancelledError:
        interrupt()
        with contextlib.suppress(BaseException):
            await asyncio.wait_for(task, timeout=interval)
        raise


def _progress(partial: Path) -> BackupProgress:
    try:
        written = partial.stat().st_size
    except FileNotFoundError:
        written = 0
    return BackupProgress(bytes_written=written)


def _heartbeat_interval() -> timedelta:
    timeout = activity.info().heartbeat_timeout
    return timeout / 3 if timeout else DEFAULT_HEARTBEAT_INTERVAL
