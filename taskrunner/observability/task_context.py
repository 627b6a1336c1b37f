"""Which task a log line or a measurement is about: task id, queue, type and attempt.

Workflow code passes :func:`task_extra` to its log calls about a task. Inside a task's
activity, :class:`TaskContextInterceptor` keeps the same fields in a context variable for
the attempt's duration, so every line logged there (by the task's own code, a library,
or ``activity.logger``) carries them; it also measures the attempt for
``taskrunner_task_duration_seconds``. The JSON log format writes the fields out.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from typing import Any

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from taskrunner.observability.metrics import activity_meter, observe_attempt
from taskrunner.queue.models import queue_workflow_id
from taskrunner.tasks.registry import TaskActivityInput

TASK = "taskrunner_task"
"""Attribute of a log record (``extra=``) holding its task's fields."""
QUEUE_PREFIX = queue_workflow_id("")
"""A queue workflow's id is this prefix and the queue's name."""

current_task: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "taskrunner_task", default=None
)
"""The fields of the task whose activity runs in this context (None: no task's)."""


def task_fields(task_id: str, queue: str, task_type: str, attempt: int) -> dict[str, Any]:
    """The four fields every log line about a task carries."""
    return {"task_id": task_id, "queue": queue, "type": task_type, "attempt": attempt}


def task_extra(task_id: str, queue: str, task_type: str, attempt: int) -> dict[str, Any]:
    """``extra=`` for a log call about a task (merge with other extras)."""
    return {TASK: task_fields(task_id, queue, task_type, attempt)}


def fields_of(record: object) -> dict[str, Any] | None:
    """A log record's task fields: given with the call, or the running task's."""
    given = getattr(record, TASK, None)
    return given if isinstance(given, dict) else current_task.get()


class TaskContextInterceptor(Interceptor):
    """Wraps the worker's task activities (by name): task fields for logs, run time."""

    def __init__(self, task_activities: set[str]) -> None:
        self.task_activities = task_activities

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _TaskContext(next, self.task_activities)


class _TaskContext(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, task_activities: set[str]) -> None:
        super().__init__(next)
        self._task_activities = task_activities

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        task = input.args[0] if input.args else None
        if info.activity_type not in self._task_activities or not isinstance(
            task, TaskActivityInput
        ):
            return await super().execute_activity(input)
        queue = (info.workflow_id or "").removeprefix(QUEUE_PREFIX)
        with about_task(queue, task, task.task_type or info.activity_type):
            return await super().execute_activity(input)


@contextlib.contextmanager
def about_task(queue: str, task: TaskActivityInput, task_type: str) -> Iterator[None]:
    """While the block runs one attempt of ``task``: its fields on every log line, and
    its run time observed for taskrunner_task_duration_seconds."""
    fields = task_fields(task.task_id, queue, task_type, task.attempt_offset + 1)
    token = current_task.set(fields)
    started = time.monotonic()
    try:
        yield
    finally:
        observe_attempt(activity_meter(), queue, task_type, time.monotonic() - started)
        current_task.reset(token)
