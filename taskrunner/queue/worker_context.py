"""What a queue workflow learns from the worker that runs it: the worker's task types.

Workflow code cannot receive objects from its worker, and must not read a global
that a redeploy could change under a replay. Two doors, each safe for its use:

- The enqueue validators call :func:`current_task_types`, an extern function the
  worker exposes through :class:`TaskTypesInterceptor`. Validators never run on
  replay, so what they read may change between deployments.
- The enqueue handlers ask the local activity :meth:`TaskTypeActivities.resolve_task_types`
  how to run a type. Its answer is recorded in history, so a replay sees the same
  activity, timeouts and retry policy whatever the replaying worker declares.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import Interceptor, WorkflowInterceptorClassInput

from taskrunner.errors import INVALID_TASK
from taskrunner.tasks.registry import TaskExecution, TaskRegistry, activity_name

TASK_TYPES_EXTERN = "taskrunner.task_types"
"""Name of the extern function returning the worker's :class:`TaskRegistry`."""
PAYLOAD_CONTEXT_EXTERN = "taskrunner.payload_context"
"""Name of the extern function returning what payload models check against (its settings)."""
RESOLVE_TIMEOUT = timedelta(seconds=10)
"""Start-to-close of one resolve_task_types run (it only reads memory)."""
RESOLVE_RETRY = RetryPolicy(maximum_attempts=3)


class TaskTypesInterceptor(Interceptor):
    """Exposes the worker's task types, and the context their payload models validate
    with (e.g. the report names its settings declare), to its workflows' update validators."""

    def __init__(
        self, task_types: TaskRegistry, payload_context: dict[str, Any] | None = None
    ) -> None:
        self._task_types = task_types
        self._payload_context = payload_context or {}

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> None:
        input.unsafe_extern_functions[TASK_TYPES_EXTERN] = lambda: self._task_types
        input.unsafe_extern_functions[PAYLOAD_CONTEXT_EXTERN] = lambda: self._payload_context


def current_task_types() -> TaskRegistry:
    """The task types of the worker running this workflow (validators only: not replay-safe)."""
    found = workflow.extern_functions().get(TASK_TYPES_EXTERN)
    if found is None:
        raise RuntimeError("this worker has no task types: build it with taskrunner.worker")
    task_types: TaskRegistry = found()
    return task_types


def current_payload_context() -> dict[str, Any]:
    """What this worker's payload models validate against (validators only, like above)."""
    found = workflow.extern_functions().get(PAYLOAD_CONTEXT_EXTERN)
    return dict(found()) if found is not None else {}


class ResolveRequest(BaseModel):
    types: list[str]


class Resolved(BaseModel):
    executions: dict[str, TaskExecution]
    """By task type name; a name this worker does not know is absent."""


class TaskTypeActivities:
    """The worker's task types with their built activities, as the queue captures them."""

    def __init__(self, task_types: TaskRegistry, activities: dict[str, Any]) -> None:
        self._executions = {
            name: task_types[name].execution(activity_name(fn)) for name, fn in activities.items()
        }

    @activity.defn(name="resolve_task_types")
    async def resolve_task_types(self, request: ResolveRequest) -> Resolved:
        """How this worker runs each requested type (run as a local activity)."""
        return Resolved(
            executions={t: self._executions[t] for t in request.types if t in self._executions}
        )


class TaskTypeResolver:
    """Workflow side: how this queue run executes each type, asked once per type per run.

    Not carried over continue-as-new: each run asks its worker again, so a redeployed
    type applies to tasks enqueued from then on (tasks keep what they captured).
    """

    def __init__(self) -> None:
        self._known: dict[str, TaskExecution] = {}
        self._asking = False

    async def executions(self, types: set[str]) -> dict[str, TaskExecution]:
        """Each of ``types``' execution; an update fails if the worker lost a type meanwhile."""
        while missing := types - self._known.keys():
            if self._asking:  # one question at a time; it may answer for us too
                await workflow.wait_condition(lambda: not self._asking)
                continue
            self._asking = True
            try:
                resolved = await workflow.execute_local_activity_method(
                    TaskTypeActivities.resolve_task_types,
                    ResolveRequest(types=sorted(missing)),
                    start_to_close_timeout=RESOLVE_TIMEOUT,
                    retry_policy=RESOLVE_RETRY,
                )
            finally:
                self._asking = False
            self._known.update(resolved.executions)
            unknown = sorted(missing - resolved.executions.keys())
            if unknown:
                raise ApplicationError(
                    f"unknown task type {', '.join(map(repr, unknown))} on the worker that "
                    "took this request; deploy the same task types to every worker",
                    type=INVALID_TASK,
                    non_retryable=True,
                )
        return {t: self._known[t] for t in types}
