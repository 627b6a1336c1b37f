"""Drain bookkeeping: what each drain counts, and whether it is done.

A drain is registered by a short update and read by a query, so a waiting caller
never holds one of the few in-flight updates the server allows per workflow.
Finishes are counted as they happen; whether a drain is done is read from the
tasks themselves when asked (so a task retried during a drain is waited for again,
and nothing is counted done early).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from datetime import datetime, timedelta

from taskrunner.queue.models import (
    DrainRequest,
    DrainResult,
    DrainState,
    TaskOutcome,
    TaskRecord,
    TaskStatus,
)

MAX_DRAINS = 20
"""Drains remembered at once; the oldest is forgotten first (a caller that gave up)."""
DRAIN_LIFETIME = timedelta(hours=2)
"""A drain is forgotten this long after it began (longer than any caller waits)."""


class DrainTracker:
    def __init__(self, drains: Iterable[tuple[str, DrainState]] = ()) -> None:
        self.active: OrderedDict[str, DrainState] = OrderedDict(drains)

    def start(self, drain_id: str, up_to_seq: int, request: DrainRequest, now: datetime) -> None:
        while self.active and next(iter(self.active.values())).started_at + DRAIN_LIFETIME < now:
            self.active.popitem(last=False)
        self.active[drain_id] = DrainState(
            started_at=now,
            max_outcomes=request.max_outcomes,
            through_retries=request.through_retries,
            result=DrainResult(drain_id=drain_id, up_to_seq=up_to_seq, done=False),
        )
        while len(self.active) > MAX_DRAINS:
            self.active.popitem(last=False)

    def status(
        self, drain_id: str, tasks: Iterable[TaskRecord], now: datetime, paused: bool
    ) -> DrainResult | None:
        """Where drain ``drain_id`` stands (None: unknown or forgotten)."""
        drain = self.active.get(drain_id)
        if drain is None:
            return None
        result = drain.result.model_copy()
        result.waiting = result.scheduled = 0
        for task in tasks:
            if task.seq > result.up_to_seq or task.status not in ACTIVE:
                continue
            if waited_for(task, now, drain.through_retries):
                result.waiting += 1
            else:
                result.scheduled += 1
        result.done = result.waiting == 0
        result.paused = paused and not result.done
        return result

    def finished(self, record: TaskRecord) -> None:
        for drain in self.active.values():
            result = drain.result
            if record.seq > result.up_to_seq:
                continue
            if record.status == TaskStatus.COMPLETED:
                result.completed += 1
            elif record.status == TaskStatus.FAILED:
                result.failed += 1
                drain.failed_ids.append(record.id)
            else:
                result.cancelled += 1
            if len(result.outcomes) < drain.max_outcomes:
                result.outcomes.append(outcome(record))

    def reactivated(self, record: TaskRecord) -> None:
        """A failed task was retried during a drain: wait for it again, count it once."""
        for drain in self.active.values():
            if record.id not in drain.failed_ids:
                continue
            drain.failed_ids.remove(record.id)
            drain.result.failed -= 1
            drain.result.outcomes = [o for o in drain.result.outcomes if o.task_id != record.id]

    def forget_outcomes(self) -> None:
        for drain in self.active.values():
            drain.result.outcomes = []
            drain.max_outcomes = 0


ACTIVE = (TaskStatus.PENDING, TaskStatus.RUNNING)


def waited_for(task: TaskRecord, now: datetime, through_retries: bool) -> bool:
    """Whether a drain waits for ``task``: running, or pending and due now."""
    if task.status == TaskStatus.RUNNING or task.due_at is None or task.due_at <= now:
        return True
    backing_off = task.attempts > task.round_start
    return through_retries and backing_off


def outcome(record: TaskRecord) -> TaskOutcome:
    """One task's result as shown to drain callers (attempts of its latest round)."""
    return TaskOutcome(
        task_id=record.id,
        type=record.type,
        status=record.status,
        attempts=record.round_attempts,
        summary=record.result.summary if record.result else None,
        error=record.last_error,
    )
