"""Helpers every task activity shares: payload parsing, error types, file names."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import activity

from taskrunner.errors import invalid_task_data, one_line
from taskrunner.tasks.registry import TaskActivityInput

P = TypeVar("P", bound=BaseModel)

DEFAULT_HEARTBEAT_INTERVAL = timedelta(seconds=10)
"""Heartbeat period when the activity has no heartbeat timeout to derive one from."""


def parse_payload(model: type[P], task: TaskActivityInput) -> P:
    """The task's payload as ``model``; a bad payload is a non-retryable error naming the field."""
    try:
        return model.model_validate(task.payload)
    except ValidationError as err:
        problem = one_line(err, first_only=True)
        raise invalid_task_data(f"task {task.task_id}: {problem}") from None


def file_stem(task_id: str) -> str:
    """A file-name-safe form of a task id: files named by it are overwritten by a retry."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", task_id).strip(".") or "task"


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``path`` so readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


@contextlib.asynccontextmanager
async def heartbeating(progress: Callable[[], Any], *, at_once: bool = True) -> AsyncIterator[None]:
    """Heartbeat ``progress()`` in the background while the body runs.

    Blocking steps run in threads; this keeps the activity's heartbeat alive
    through a long one (a dead worker is still noticed: its heartbeats stop).
    Called outside an activity (a direct call, as ``notify send`` makes), it does nothing.
    ``at_once=False`` waits one interval before the first beat: a body that ends sooner
    costs the server no heartbeat at all.
    """
    if not activity.in_activity():
        yield
        return
    timeout = activity.info().heartbeat_timeout
    interval = (timeout / 3 if timeout else DEFAULT_HEARTBEAT_INTERVAL).total_seconds()

    async def beat() -> None:
        if not at_once:
            await asyncio.sleep(interval)
        while True:
            activity.heartbeat(progress())
            await asyncio.sleep(interval)

    beater = asyncio.create_task(beat())
    try:
        yield
    finally:
        beater.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beater
