"""The fast path: ready tasks of a bundled task type run in one activity call.

One call carries up to the type's ``bundle`` tasks: three history events and one
activity task round trip per call instead of per task. A call is as wide as the
queue's free slots when it starts (its tasks that take a slot); when the slots run out
first, the call is topped up with the next ready tasks of its type, in run order, which
wait inside the call for one of its slots. So at most ``max_concurrency`` tasks of the
queue run at once, and a queue of 10 sends 30 emails per round trip instead of 10.

Each task in the call is still its own attempt, bounded by its type's timeout: its
outcome is settled alone (completed, retried after its backoff, or failed), so attempt
counts, the failed list, retries and idempotency keys behave as for single tasks. A call
does not detach: the queue waits for its calls before it continues as new (bundled types
are short, at most 60 s an attempt). A call heartbeats the outcomes it has once it runs
for a few seconds: a worker lost mid-call is noticed within ``CALL_HEARTBEAT``, the
tasks its last heartbeat reported keep those outcomes, and each of the others counts
that attempt as failed and retries: only tasks the call had not finished run again.

Local activities were measured too (no round trip at all), and left out: the SDK holds
a workflow task open while any local activity of it runs, so outcomes stay unrecorded
while calls overlap (a crash would re-run all of them), and forcing a recorded point
between calls costs a server timer, about a second on the dev server.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.exceptions import ActivityError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from taskrunner.queue.attempts import AttemptFailure
    from taskrunner.queue.models import TaskRecord
    from taskrunner.queue.retries import ONE_ATTEMPT, Outcome, failure_of, log_start
    from taskrunner.queue.state import QueueState
    from taskrunner.tasks.registry import TaskActivityInput, TaskResult

RUN_BUNDLE = "run_task_bundle"
"""The worker's activity that runs a bundle (taskrunner/queue/bundle_activity.py)."""
TOPPED_UP = "bundle-calls-topped-up"
"""The patch that calls are topped up under (a run from before replays without it: its
calls, and their activity ids, stay as they were)."""
CALL_HEARTBEAT = timedelta(seconds=10)
"""A call's heartbeat timeout: how soon a call whose worker was lost is given up."""
CALL_MARGIN = timedelta(seconds=5)
"""A call's timeout beyond its tasks' own (each wave of ``width`` tasks has the type's
timeout): a task that runs out of time fails alone, inside the call."""


class BundleInput(BaseModel):
    activity: str
    """The task type's activity, run in-process for each task."""
    tasks: list[TaskActivityInput]
    width: int | None = None
    """Most tasks of the call that run at once (None: all of them)."""
    attempt_timeout: timedelta | None = None
    """Longest one task's attempt may take (the type's timeout; None: the call's)."""


class BundleItem(BaseModel):
    """One task's attempt: its result or how it failed."""

    result: TaskResult | None = None
    failure: AttemptFailure | None = None


class BundleOutcome(BaseModel):
    items: list[BundleItem]
    """In the order of ``BundleInput.tasks``."""


class BundleProgress(BaseModel):
    """A running call's heartbeat: the outcomes it has so far."""

    done: dict[int, BundleItem]
    """By index in ``BundleInput.tasks``."""


@dataclass(eq=False)
class Call:
    """The started tasks of one bundled call, in run order."""

    records: list[TaskRecord]
    width: int
    """How many of them took one of the queue's slots: at most so many run at once."""

    @property
    def waiting(self) -> int:
        """Tasks that hold no slot: they wait inside the call for one of its slots."""
        return len(self.records) - self.width


class Bundles:
    """Groups the bundled tasks one turn of the queue's loop starts, by execution.

    Args:
        single: One task per call (the queue spaces its starts by ``start_interval_ms``).
    """

    def __init__(self, state: QueueState, *, single: bool = False) -> None:
        self._state = state
        self._single = single
        self._open: dict[str, Call] = {}

    def bundled(self, record: TaskRecord) -> bool:
        """Whether ``record`` takes the fast path (an execution captured with a bundle)."""
        return self._state.executions[record.execution].bundle > 1

    def _size(self, record: TaskRecord) -> int:
        return 1 if self._single else self._state.executions[record.execution].bundle

    def add(self, record: TaskRecord) -> Call | None:
        """Add a started bundled task that took a slot; its call when that is full now."""
        call = self._open.setdefault(record.execution, Call([], 0))
        call.records.append(record)
        call.width += 1
        if len(call.records) < self._size(record):
            return None
        return self._open.pop(record.execution)

    def top_up(self, now: datetime) -> None:
        """Once the queue's slots are taken: start the next ready tasks while each is of an
        open call with room left, to wait in it for a slot (never out of run order)."""
        while (head := self._state.next_ready(now)) is not None:
            call = self._open.get(head.execution)
            if call is None or len(call.records) >= self._size(head):
                return
            started = self._state.start_next(now)
            assert started is head
            call.records.append(started)

    def rest(self) -> list[Call]:
        """The calls not yet full, at the end of the turn: they run as they are."""
        rest, self._open = list(self._open.values()), {}
        return rest


async def run_bundle(state: QueueState, call: Call) -> list[Outcome]:
    """Run the attempts the call's tasks were started for in one activity call; one
    outcome per task, in order. A call that fails as a whole fails every attempt in it."""
    records = call.records
    execution = state.executions[records[0].execution]
    timeout = execution.start_to_close_timeout
    waves = math.ceil(len(records) / call.width)
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
            BundleInput(
                activity=execution.activity,
                tasks=tasks,
                width=call.width,
                attempt_timeout=timeout,
            ),
            result_type=BundleOutcome,
            activity_id=f"{records[0].id}-{records[0].attempts}-x{len(records)}",
            # Each task has its type's timeout; the call runs them ``width`` at a time.
            start_to_close_timeout=timeout * waves + CALL_MARGIN,
            heartbeat_timeout=CALL_HEARTBEAT,
            retry_policy=ONE_ATTEMPT,
        )
    except ActivityError as err:
        failed, done = failure_of(err), reported(err)
        return [_outcome(done[i]) if i in done else failed for i in range(len(records))]
    if len(outcome.items) != len(records):  # a worker of another version: never trust it
        lost = AttemptFailure(message=f"bundle answered {len(outcome.items)} of {len(records)}")
        return [lost] * len(records)
    return [_outcome(item) for item in outcome.items]


def reported(err: ActivityError) -> dict[int, BundleItem]:
    """The outcomes a failed call's last heartbeat reported, by task index (none when it
    never heartbeat, or sent something else)."""
    cause = err.cause
    details = cause.last_heartbeat_details if isinstance(cause, TimeoutError) else ()
    if not details:
        return {}
    try:
        return BundleProgress.model_validate(details[0]).done
    except ValidationError:
        return {}


def _outcome(item: BundleItem) -> Outcome:
    if item.result is not None:
        return item.result
    return item.failure or AttemptFailure(message="no outcome reported")
