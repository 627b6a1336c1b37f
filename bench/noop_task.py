"""A bench-only no-op task type: its activity records when it started, then returns."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity

from taskrunner.tasks.builtin import BUILTIN_TASK_TYPES
from taskrunner.tasks.registry import (
    TaskActivityInput,
    TaskRegistry,
    TaskResult,
    TaskType,
)

NOOP_TYPE = "bench_noop"
FAST_NOOP_TYPE = "bench_noop_fast"
"""The same no-op on the fast path: bundled, 25 tasks a call."""
FAST_BUNDLE = 25
STARTS: dict[str, float] = {}
"""Task id -> wall-clock time (time.time()) its activity started (worker in this process)."""


class NoopPayload(BaseModel):
    index: int = 0


@activity.defn(name="bench_noop_task")
async def noop_task(params: TaskActivityInput) -> TaskResult:
    STARTS.setdefault(params.task_id, time.time())
    return TaskResult(summary="ok")


def noop_types() -> TaskRegistry:
    """The built-in task types plus the no-op one (old start times forgotten)."""
    STARTS.clear()
    remote = TaskType(NOOP_TYPE, NoopPayload, lambda _: noop_task, timedelta(seconds=30))
    fast = replace(remote, name=FAST_NOOP_TYPE, bundle=FAST_BUNDLE)
    return BUILTIN_TASK_TYPES.including(remote, fast)
