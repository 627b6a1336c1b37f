"""The fast path: ready tasks of a bundled task type run in one activity call.

One call carries up to the type's ``bundle`` tasks: three history events and one
activity task round trip per call instead of per task. Each task in the call is still
its own attempt: its outcome is settled alone (completed, retried after its backoff,
or failed), so attempt counts, the failed list, retries and idempotency keys behave as
for single tasks. A call does not detach: the queue waits for its calls before it
continues as new (bundled types are short, at most 60 s an attempt). A worker lost
mid-call times the call out: each of its tasks counts that attempt as failed and
retries; only tasks in flight run again.

Local activities were measured too (no round trip at all), and left out: the SDK holds
a workflow task open while any local activity of it runs, so outcomes stay unrecorded
while calls overlap (a crash would re-run all of them), and forcing a recorded point
between calls costs a server timer, about a second on the dev server.
"""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from taskrunner.queue.attempts import AttemptFailure
    from taskrunner.queue.models import TaskRecord
    from taskrunner.queue.retries import ONE_ATTEMPT, Outcome, failure_of, log_start
    from taskrunner.queue.state import QueueState
    from taskrunner.tasks.registry import TaskActivityInput, TaskResult

RUN_BUNDLE = "run_task_bundle"
"""The worker's activity that runs a bundle (taskrunner/queue/bundle_activity.py)."""


class BundleInput(BaseModel):
    activity: str
    """The task type's activity, run in-process for each task."""
    tasks: list[TaskActivityInput]


class BundleItem(BaseModel):
    """One task's attempt: its result or how it failed."""

    result: TaskResult | None = None
    failure: AttemptFailure | None = None


class BundleOutcome(BaseModel):
    items: list[BundleItem]
    """In the order of ``BundleInput.tasks``."""


class Bundles:
    """Groups the bundled tasks one turn of the queue's loop starts, by execution.

    Args:
        single: One task per call (the queue spaces its starts by ``start_interval_ms``).
    """

    def __init__(self, state: QueueState, *, single: bool = False) -> None:
        self._state = state
        self._single = single
        self._open: dict[str, list[TaskRecord]] = {}

    def bundled(self, record: TaskRecord) -> bool:
        """Whether ``record`` takes the fast path (an execution captured with a bundle)."""
        return self._state.executions[record.execution].bundle > 1

    def add(self, record: TaskRecord) -> list[TaskRecord] | None:
        """Add a started bundled task; its bundle when that is full now, to run."""
        size = 1 if self._single else self._state.executions[record.execution].bundle
        group = self._open.setdefault(record.execution, [])
        group.append(record)
        if len(group) < size:
            return None
        return self._open.pop(record.execution)

    def rest(self) -> list[list[TaskRecord]]:
        """The bundles not yet full, at the end of the turn: they run as they are."""
        rest, self._open = list(self._open.values()), {}
        return rest


async def run_bundle(state: QueueState, records: list[TaskRecord]) -> list[Outcome]:
    """Run the attempts ``records`` were started for in one activity call; one outcome
    per record, in order. A call that fails as a whole fails every attempt in it."""
    execution = state.executions[records[0].execution]
    for record in records:
        log_start(state, record)
    tasks = [
        TaskActivityInput(
            task_id=record.id,
            attempt_offset=record.attempts - 1,
            payload=record.spec.payload,
            task_type=record.type,
        )
        for record in records
    ]
    try:
        outcome = await workflow.execute_activity(
            RUN_BUNDLE,
            BundleInput(activity=execution.activity, tasks=tasks),
            result_type=BundleOutcome,
            activity_id=f"{records[0].id}-{records[0].attempts}-x{len(records)}",
            start_to_close_timeout=execution.start_to_close_timeout,
            retry_policy=ONE_ATTEMPT,
        )
    except ActivityError as err:
        failed = failure_of(err)
        return [failed] * len(records)
    if len(outcome.items) != len(records):  # a worker of another version: never trust it
        lost = AttemptFailure(message=f"bundle answered {len(outcome.items)} of {len(records)}")
        return [lost] * len(records)
    return [_outcome(item) for item in outcome.items]


def _outcome(item: BundleItem) -> Outcome:
    if item.result is not None:
        return item.result
    return item.failure or AttemptFailure(message="no outcome reported")
