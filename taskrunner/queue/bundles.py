"""The fast path: ready tasks of a local task type run in one local activity call.

A local activity runs in the worker that runs the queue's workflow task, with no
activity task of its own: one marker event per call instead of three events per
attempt, and no round trip through the server. Each task in the call is still its own
attempt: its outcome is settled alone (completed, retried after its backoff, or
failed), so attempt counts, the failed list, retries and idempotency keys behave as on
the remote path. A local activity cannot outlive its workflow task: the queue waits
for its calls before it continues as new, and a worker lost mid-call leaves no marker,
so the next worker runs that call's tasks again (in the same attempt).

The SDK completes a workflow task only once none of its local calls is running, and
starting a call as another ends would keep one task open for seconds (until the SDK's
workflow task heartbeat): every outcome in it unrecorded, all of it to run again after
a crash. So local calls run in rounds: up to ``max_concurrency`` tasks start together;
when the last call of the round ends, a 1 ms timer lets the workflow task complete,
recording the round, and the next round starts. A lost worker re-runs at most one
round: the tasks that were in flight. While a round runs, the queue answers commands
and enqueues when it ends (local tasks are short: at most 60 s, usually milliseconds).
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from taskrunner.queue.attempts import AttemptFailure
    from taskrunner.queue.models import TaskRecord
    from taskrunner.queue.retries import ONE_ATTEMPT, Outcome, failure_of, log_start
    from taskrunner.queue.state import QueueState
    from taskrunner.tasks.registry import TaskActivityInput, TaskResult

ROUND_PAUSE = timedelta(milliseconds=1)
"""The timer between two rounds of local calls (see the module's docstring)."""
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
    """Groups the local tasks one turn of the queue's loop starts, by execution.

    Args:
        single: One task per call (the queue spaces its starts by ``start_interval_ms``).
    """

    def __init__(self, state: QueueState, *, single: bool = False) -> None:
        self._state = state
        self._single = single
        self._open: dict[str, list[TaskRecord]] = {}

    def opened(self, *, single: bool = False) -> Bundles:
        """A fresh grouping for one turn of the loop (this one keeps none open)."""
        return Bundles(self._state, single=single)

    def local(self, record: TaskRecord) -> bool:
        """Whether ``record`` takes the fast path (an execution captured as local)."""
        return self._state.executions[record.execution].local

    def add(self, record: TaskRecord) -> list[TaskRecord] | None:
        """Add a started local task; its bundle when that is full now, to run."""
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
    """Run the attempts ``records`` were started for in one local activity call; one
    outcome per record, in order. A call that fails as a whole fails every attempt in it."""
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
        outcome = await workflow.execute_local_activity(
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
