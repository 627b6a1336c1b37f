"""A bench-only no-op task type: its activity records when it started, then returns."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity

from taskrunner.tasks.registry import (
    TaskActivityInput,
    TaskResult,
    TaskType,
    registered,
)

NOOP_TYPE = "bench_noop"
STARTS: dict[str, float] = {}
"""Task id -> wall-clock time (time.time()) its activity started (worker in this process)."""


class NoopPayload(BaseModel):
    index: int = 0


@activity.defn(name="bench_noop_task")
async def noop_task(params: TaskActivityInput) -> TaskResult:
    STARTS.setdefault(params.task_id, time.time())
    return TaskResult(summary="ok")


@contextlib.contextmanager
def noop_type() -> Iterator[None]:
    """Register the no-op task type for a ``with`` block (and forget old start times)."""
    STARTS.clear()
    with registered(TaskType(NOOP_TYPE, NoopPayload, "bench_noop_task", timedelta(seconds=30))):
        yield
