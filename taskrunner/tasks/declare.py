"""``@task_type``: declare a task type on a plain function (or a class), as users write it.

    class ResizePayload(TaskPayload):
        path: str
        width: int = Field(gt=0)

    @task_type("resize", payload=ResizePayload, timeout=timedelta(minutes=2))
    def resize(payload: ResizePayload, ctx: TaskContext) -> str:
        ...
        return f"resized {payload.path}"

A sync function runs in the worker's thread pool, an async one on its event loop. A
class is built once per worker from its settings (for clients and pools) and its
``run(payload, ctx)`` is the handler. The handler returns a :class:`TaskResult`, a
summary string, a dict of details, or None. Raising ``invalid_task_data(...)`` fails the
task at once; any other exception is one failed attempt, retried by ``retry``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel
from temporalio import activity
from temporalio.common import RetryPolicy

from taskrunner.errors import NEVER_RETRIED
from taskrunner.policies import DEFAULT_RETRY
from taskrunner.tasks.common import parse_payload
from taskrunner.tasks.registry import TaskActivityInput, TaskResult, TaskType

if TYPE_CHECKING:
    from taskrunner.settings import Settings

DECLARED = "__task_type__"
"""Attribute a declared function or class carries: its :class:`TaskType`."""
DEFAULT_TIMEOUT = timedelta(minutes=5)
"""Start-to-close of one attempt when a declaration names none."""
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
D = TypeVar("D")


@dataclass(frozen=True)
class TaskContext:
    """What a handler knows about the attempt it runs."""

    task_id: str
    """The queue's id of the task: key side effects by it (an attempt may run twice)."""
    attempt: int
    """1 for the first attempt of the task, counted across retries."""
    settings: Settings
    loop: asyncio.AbstractEventLoop = field(repr=False, compare=False)
    """The worker's event loop: the SDK's heartbeat must be called there."""

    def heartbeat(self, *details: Any) -> None:
        """Report progress (needed when the type has a ``heartbeat`` timeout); callable
        from a sync handler's thread as from an async handler."""
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            activity.heartbeat(*details)
        else:  # the copied context carries the activity's, for the SDK to find
            beat = functools.partial(activity.heartbeat, *details)
            self.loop.call_soon_threadsafe(beat, context=contextvars.copy_context())


def task_type(
    name: str,
    *,
    payload: type[BaseModel],
    retry: RetryPolicy | None = None,
    timeout: timedelta = DEFAULT_TIMEOUT,
    heartbeat: timedelta | None = None,
    activity_name: str | None = None,
    bundle: int = 1,
) -> Callable[[D], D]:
    """Declare the decorated function (or class) as the task type ``name``.

    Args:
        name: What producers write in ``TaskSpec.type`` / ``taskrunner enqueue NAME``.
        payload: The pydantic model a payload must satisfy, checked at enqueue.
        retry: Attempts and backoff (default: 3 attempts, 1 s doubling). Error types in
            ``taskrunner.errors.NEVER_RETRIED`` are never retried whatever it says.
        timeout: Longest one attempt may run.
        heartbeat: An attempt that does not call ``ctx.heartbeat`` this often is retried.
        activity_name: The Temporal activity's name (default ``task_<name>``).
        bundle: The fast path for short tasks: up to this many ready tasks run in one
            activity call (at most 60 s an attempt, no heartbeat; see :class:`TaskType`).
            Settings can change it per type: ``queue.bundles``.
    """
    if not NAME.match(name):
        raise ValueError(f"task type name {name!r}: letters, digits, '_', '-', '.' (max 64)")
    policy = _never_retrying(retry or DEFAULT_RETRY)

    def declare(target: D) -> D:
        handler_of = _handler_factory(target)
        registered = activity_name or f"task_{_snake(name)}"

        def build(settings: Settings) -> Callable[..., Any]:
            return _activity(registered, payload, handler_of(settings), settings)

        declared = TaskType(
            name,
            payload,
            build,
            start_to_close_timeout=timeout,
            heartbeat_timeout=heartbeat,
            retry_policy=policy,
            bundle=bundle,
        )
        setattr(target, DECLARED, declared)
        return target

    return declare


def declared_type(target: object) -> TaskType | None:
    """The task type a function or class was declared as (None: it was not)."""
    found = getattr(target, DECLARED, None)
    return found if isinstance(found, TaskType) else None


def task_activity(target: object, settings: Settings) -> Callable[..., Any]:
    """The activity a declared function or class runs as, for tests: run it with
    ``temporalio.testing.ActivityEnvironment().run(activity, TaskActivityInput(...))``."""
    (declared,) = declared_types(target)
    return declared.activity(settings)


def declared_types(*targets: object) -> list[TaskType]:
    """The task types of declared functions or classes; an undeclared one is an error."""
    found = []
    for target in targets:
        declared = declared_type(target)
        if declared is None:
            raise TypeError(f"{target!r} is not declared with @task_type")
        found.append(declared)
    return found


def _handler_factory(target: Any) -> Callable[[Settings], Callable[..., Any]]:
    if inspect.isclass(target):
        cls: Any = target
        if not callable(getattr(cls, "run", None)):
            raise TypeError(f"task type class {cls.__name__} needs a run(payload, ctx) method")
        return lambda settings: cls(settings).run
    if not callable(target):
        raise TypeError(f"@task_type decorates a function or a class, not {target!r}")
    return lambda settings: target


def _activity(
    name: str, model: type[BaseModel], handler: Callable[..., Any], settings: Settings
) -> Callable[..., Any]:
    is_async = inspect.iscoroutinefunction(handler)

    @activity.defn(name=name)
    async def run_task(task: TaskActivityInput) -> TaskResult:
        payload = parse_payload(model, task)
        ctx = TaskContext(
            task_id=task.task_id,
            attempt=task.attempt_offset + activity.info().attempt,
            settings=settings,
            loop=asyncio.get_running_loop(),
        )
        if is_async:
            outcome = await handler(payload, ctx)
        else:  # the thread pool; the activity's context (heartbeats) goes along
            outcome = await asyncio.to_thread(handler, payload, ctx)
        return as_result(outcome, name)

    return run_task


def as_result(outcome: Any, name: str) -> TaskResult:
    """A handler's return value as the queue's :class:`TaskResult`."""
    if isinstance(outcome, TaskResult):
        return outcome
    if outcome is None:
        return TaskResult(summary="done")
    if isinstance(outcome, str):
        return TaskResult(summary=outcome)
    if isinstance(outcome, dict):
        return TaskResult(summary=str(outcome.get("summary", "done")), details=outcome)
    raise TypeError(
        f"{name} returned {type(outcome).__name__}; return a TaskResult, str, dict or None"
    )


def _never_retrying(policy: RetryPolicy) -> RetryPolicy:
    listed = list(policy.non_retryable_error_types or ())
    missing = [kind for kind in NEVER_RETRIED if kind not in listed]
    return replace(policy, non_retryable_error_types=[*listed, *missing]) if missing else policy


def _snake(name: str) -> str:
    """``dataSync`` -> ``data_sync``, ``resize-image`` -> ``resize_image``."""
    spaced = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name)
    return re.sub(r"[^A-Za-z0-9]+", "_", spaced).lower()
