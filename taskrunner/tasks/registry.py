"""The task type registry: name -> payload model, activity, timeouts, retry policy.

Adding a task type is one entry here plus one activity (see the README). Workflow
code reads this registry (it is plain data, passed through the sandbox).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from temporalio.common import RetryPolicy

from taskrunner.policies import DEFAULT_RETRY


@dataclass(frozen=True)
class TaskType:
    name: str
    payload_model: type[BaseModel]
    activity: str
    """Name of the activity that executes it (takes TaskActivityInput, returns TaskResult)."""
    start_to_close_timeout: timedelta
    heartbeat_timeout: timedelta | None = None
    # RetryPolicy is a mutable dataclass: a plain default is refused by @dataclass.
    retry_policy: RetryPolicy = field(default_factory=lambda: DEFAULT_RETRY)


TASK_TYPES: dict[str, TaskType] = {}
"""Every known task type by name (taskrunner.tasks.builtin fills in the built-in ones)."""


class TaskPayload(BaseModel):
    """Base of task payload models: a typo in a field is an error, not an ignored key."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TaskActivityInput(BaseModel):
    """What the queue passes to a task type's activity."""

    task_id: str
    attempt_offset: int = 0
    """Attempts made in earlier runs of this task (a retried failed task starts above 0)."""
    payload: dict[str, Any]


class TaskResult(BaseModel):
    """What every task activity returns: a one-line summary plus details."""

    summary: str
    details: dict[str, Any] = Field(default_factory=dict)


@contextlib.contextmanager
def registered(*task_types: TaskType) -> Iterator[None]:
    """Add task types to :data:`TASK_TYPES` for the duration of a ``with`` block.

    The queue's validator and its processing loop read the same dict, so a type
    added here is accepted and executed alike (the worker must also register the
    type's activity). Tests use it for their own task types.
    """
    clashes = [t.name for t in task_types if t.name in TASK_TYPES]
    if clashes:
        raise ValueError(f"task type(s) already registered: {', '.join(clashes)}")
    TASK_TYPES.update({t.name: t for t in task_types})
    try:
        yield
    finally:
        for t in task_types:
            TASK_TYPES.pop(t.name, None)
