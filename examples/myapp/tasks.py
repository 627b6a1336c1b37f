"""One task type of "your" application: prune old files from a folder.

Loaded by the worker through ``task_modules = ["myapp.tasks"]`` (and ``task_path`` for
where ``myapp`` lives); see examples/taskrunner.toml.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from pydantic import Field
from temporalio.common import RetryPolicy

from taskrunner import TaskContext, TaskPayload, TaskResult, invalid_task_data, task_type


class PrunePayload(TaskPayload):
    folder: str
    """Relative paths are taken from the worker's data directory."""
    pattern: str = "*"
    max_age_days: float = Field(default=7, gt=0)
    dry_run: bool = False


@task_type(
    "prune_files",
    payload=PrunePayload,
    retry=RetryPolicy(maximum_attempts=2, initial_interval=timedelta(seconds=5)),
    timeout=timedelta(minutes=5),
)
def prune_files(payload: PrunePayload, ctx: TaskContext) -> TaskResult:
    """A plain sync function: the worker runs it in its thread pool."""
    folder = Path(payload.folder)
    if not folder.is_absolute():
        folder = ctx.settings.data_dir / folder
    if not folder.is_dir():
        raise invalid_task_data(f"task {ctx.task_id}: {folder} is not a folder")
    cutoff = time.time() - payload.max_age_days * 86_400
    old = [p for p in folder.glob(payload.pattern) if p.is_file() and p.stat().st_mtime < cutoff]
    if not payload.dry_run:
        for path in old:
            path.unlink(missing_ok=True)
    verb = "would remove" if payload.dry_run else "removed"
    return TaskResult(
        summary=f"{verb} {len(old)} file(s) older than {payload.max_age_days:g} days in {folder}",
        details={"removed": [p.name for p in old], "dry_run": payload.dry_run},
    )
