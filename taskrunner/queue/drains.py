"""Drain bookkeeping: which callers wait for which tasks, counted as tasks finish.

A drain waits for every task with ``seq <= up_to_seq`` that was pending or running
when it began. Counting finishes as they happen keeps the wait condition O(1)
instead of scanning the queue on every workflow activation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from taskrunner.queue.models import (
    DrainResult,
    TaskOutcome,
    TaskRecord,
    TaskStatus,
)


@dataclass
class Drain:
    up_to_seq: int
    remaining: int
    max_outcomes: int
    result: DrainResult = field(init=False)
    failed_ids: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.result = DrainResult(up_to_seq=self.up_to_seq, done=False)


class DrainTracker:
    def __init__(self) -> None:
        self.active: list[Drain] = []

    def start(self, up_to_seq: int, remaining: int, max_outcomes: int) -> Drain:
        drain = Drain(up_to_seq, remaining, max_outcomes)
        self.active.append(drain)
        return drain

    def stop(self, drain: Drain) -> DrainResult:
        self.active.remove(drain)
        return drain.result

    def finished(self, record: TaskRecord) -> None:
        for drain in self.active:
            if record.seq > drain.up_to_seq:
                continue
            drain.remaining -= 1
            result = drain.result
            if record.status == TaskStatus.COMPLETED:
                result.completed += 1
            elif record.status == TaskStatus.FAILED:
                result.failed += 1
                drain.failed_ids.add(record.id)
            else:
                result.cancelled += 1
            if len(result.outcomes) < drain.max_outcomes:
                result.outcomes.append(outcome(record))

    def reactivated(self, record: TaskRecord) -> None:
        """A failed task was retried during a drain: wait for it again, count it once."""
        for drain in self.active:
            if record.id not in drain.failed_ids:
                continue
            drain.failed_ids.discard(record.id)
            drain.remaining += 1
            drain.result.failed -= 1
            drain.result.outcomes = [o for o in drain.result.outcomes if o.task_id != record.id]


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
