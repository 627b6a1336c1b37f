"""Task types: what the queue runs, each declared once.

A :class:`TaskType` names its payload model, the activity that executes it, its
timeouts and its retry policy. A :class:`TaskRegistry` is a fixed set of them:
the worker registers each type's activity from it, the queue's enqueue validator
checks payloads against it, and when a task is enqueued the queue captures the
type's :class:`TaskExecution` (activity name, timeouts, retry policy) into its
own state, so a worker deployed later with other values never changes a task
already queued, nor the replay of a queue's history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field
from temporalio.activity import _Definition
from temporalio.common import RetryPolicy

from taskrunner.policies import DEFAULT_RETRY

if TYPE_CHECKING:
    from taskrunner.settings import Settings

ActivityFactory = Callable[["Settings"], Callable[..., Any]]
"""Builds a type's activity (an ``@activity.defn`` callable) from the worker's settings."""


class TaskPayload(BaseModel):
    """Base of task payload models: a typo in a field is an error, not an ignored key."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TaskActivityInput(BaseModel):
    """What the queue passes to a task type's activity."""

    task_id: str
    attempt_offset: int = 0
    """Attempts made in earlier runs of this task (a retried failed task starts above 0)."""
    payload: dict[str, Any]
    detach_at: datetime | None = None
    """From this instant the queue may continue as new without waiting for this attempt;
    the worker then hands its outcome over (see taskrunner/queue/attempts.py)."""
    task_type: str | None = None
    """The task's type, for the attempt's log lines and metrics (None: from an older queue)."""


class TaskResult(BaseModel):
    """What every task activity returns: a one-line summary plus details."""

    summary: str
    details: dict[str, Any] = Field(default_factory=dict)


class TaskExecution(BaseModel):
    """How the queue runs a task: captured from its type when the task is enqueued."""

    key: str
    """``<type>@<digest>``: tasks enqueued under the same declaration share one entry."""
    activity: str
    start_to_close_timeout: timedelta
    heartbeat_timeout: timedelta | None = None
    retry_policy: RetryPolicy
    bundle: int = 1
    """Ready tasks of this execution run together, up to this many, in one activity call
    (1 in executions captured before bundles existed)."""


BUNDLE_MAX_TIMEOUT = timedelta(seconds=60)
"""Longest attempt a bundled task type may declare: a continue-as-new waits for bundles."""
MAX_BUNDLE = 100
"""Most tasks one bundle runs at once."""


@dataclass(frozen=True)
class TaskType:
    """One kind of task.

    Args:
        name: What producers write in ``TaskSpec.type``.
        payload: The pydantic model a payload must satisfy (checked at enqueue).
        activity: Builds the activity that executes a task from the worker's settings;
            it takes a :class:`TaskActivityInput` and returns a :class:`TaskResult`.
        start_to_close_timeout: Longest one attempt may run.
        heartbeat_timeout: An attempt that stops heartbeating this long is retried.
        retry_policy: Attempts and backoff; the queue applies it itself.
        bundle: The fast path for short tasks: up to this many ready tasks of the type
            run in one activity call, as many at once as the queue has free slots, each
            with its own outcome and within its own timeout (three history events and
            one activity task round trip per call, not per task). Attempts, the failed
            list, retries and idempotency keys work as for single tasks; a worker lost
            mid-call fails the attempts its heartbeats had not reported, which retry. At
            most ``BUNDLE_MAX_TIMEOUT`` per attempt and no heartbeat timeout (a task in a
            bundle cannot heartbeat alone: the call heartbeats for it).
    """

    name: str
    payload: type[BaseModel]
    activity: ActivityFactory
    start_to_close_timeout: timedelta
    heartbeat_timeout: timedelta | None = None
    # RetryPolicy is a mutable dataclass: a plain default is refused by @dataclass.
    retry_policy: RetryPolicy = field(default_factory=lambda: DEFAULT_RETRY)
    bundle: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.bundle <= MAX_BUNDLE:
            raise ValueError(f"task type {self.name!r}: bundle must be 1 to {MAX_BUNDLE}")
        if self.bundle > 1 and self.start_to_close_timeout > BUNDLE_MAX_TIMEOUT:
            raise ValueError(
                f"task type {self.name!r}: a bundled task type runs at most "
                f"{BUNDLE_MAX_TIMEOUT.total_seconds():g} s an attempt (its timeout is "
                f"{self.start_to_close_timeout.total_seconds():g} s); keep bundle = 1"
            )
        if self.bundle > 1 and self.heartbeat_timeout is not None:
            raise ValueError(
                f"task type {self.name!r}: a bundled task cannot heartbeat; "
                "drop its heartbeat timeout or keep bundle = 1"
            )

    def execution(self, activity_name: str) -> TaskExecution:
        """What the queue captures for a task of this type, given its activity's name."""
        parts = TaskExecution(
            key=self.name,
            activity=activity_name,
            start_to_close_timeout=self.start_to_close_timeout,
            heartbeat_timeout=self.heartbeat_timeout,
            retry_policy=self.retry_policy,
            bundle=self.bundle,
        )
        digest = hashlib.sha256(parts.model_dump_json().encode()).hexdigest()[:10]
        return parts.model_copy(update={"key": f"{self.name}@{digest}"})


class TaskRegistry(Mapping[str, TaskType]):
    """A fixed set of task types by name; ``including`` makes a new, larger one."""

    def __init__(self, types: Iterable[TaskType] = ()) -> None:
        self._types: dict[str, TaskType] = {}
        for task_type in types:
            if task_type.name in self._types:
                raise ValueError(f"task type {task_type.name!r} is declared twice")
            self._types[task_type.name] = task_type

    def __getitem__(self, name: str) -> TaskType:
        return self._types[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)

    def including(self, *types: TaskType) -> TaskRegistry:
        """This registry plus ``types`` (a name declared twice is an error)."""
        return TaskRegistry([*self._types.values(), *types])

    def names(self) -> str:
        """The known names, for error messages."""
        return ", ".join(sorted(self._types)) or "none"


def activity_name(activity: Callable[..., Any]) -> str:
    """The name an ``@activity.defn`` callable is registered under."""
    name = _Definition.must_from_callable(activity).name
    if name is None:
        raise ValueError(f"{activity!r} is a dynamic activity; a task type needs a named one")
    return name
