"""The queue's state as a plain, deterministic data structure (no Temporal calls).

The workflow owns one :class:`QueueState` and passes it ``now``; everything here is
unit-testable without a server. Every operation on the hot path is O(log n) or
O(1): heaps order pending work, counters are kept incrementally, and finished
tasks live in bounded windows.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from datetime import datetime
from typing import Any

from taskrunner.queue.drains import DrainTracker
from taskrunner.queue.models import (
    QueueConfig,
    QueueStats,
    TaskCounts,
    TaskRecord,
    TaskSpec,
    TaskStatus,
)

ACTIVE = (TaskStatus.PENDING, TaskStatus.RUNNING)
APPLIED_IDS_LIMIT = 20_000
"""Task ids remembered for recent enqueue updates (see :meth:`QueueState.remember`)."""


class QueueState:
    """Tasks, their order, counters and idempotency keys of one queue."""

    def __init__(self, config: QueueConfig) -> None:
        self.config = config
        self.tasks: dict[str, TaskRecord] = {}
        """Pending, running and failed tasks (what must never be lost)."""
        self.completed: OrderedDict[str, TaskRecord] = OrderedDict()
        """The most recent completed tasks, at most ``recent_limit``."""
        self.cancelled: OrderedDict[str, TaskRecord] = OrderedDict()
        self.ready: list[tuple[int, int, str]] = []
        """Heap of (-priority, seq, id): highest priority first, then oldest."""
        self.delayed: list[tuple[datetime, int, str]] = []
        """Heap of (run_at, seq, id) for tasks not due yet."""
        self.active_keys: dict[str, str] = {}
        self.finished_keys: OrderedDict[str, str] = OrderedDict()
        """Keys of finished tasks, at most ``idempotency_window`` (oldest forgotten first)."""
        self.counts: dict[str, TaskCounts] = {}
        self.enqueued = 0
        self.purged = 0
        self.next_seq = 1
        self.paused = False
        self.running = 0
        self.drains = DrainTracker()
        self.applied: OrderedDict[str, tuple[list[str], int]] = OrderedDict()
        """Recent enqueue update id -> (task ids, created), at most APPLIED_IDS_LIMIT ids."""
        self._applied_ids = 0

    # -- enqueue -------------------------------------------------------------

    def remember(self, update_id: str, task_ids: list[str], created: int) -> None:
        """Record what an enqueue update did.

        A client whose update raced a continue-as-new may send the same update
        (same id) to the next run; it must get the first answer, not new tasks.
        """
        self.applied[update_id] = (task_ids, created)
        self._applied_ids += len(task_ids)
        while self._applied_ids > APPLIED_IDS_LIMIT and len(self.applied) > 1:
            _, (ids, _) = self.applied.popitem(last=False)
            self._applied_ids -= len(ids)

    def find_key(self, key: str | None) -> str | None:
        if key is None:
            return None
        return self.active_keys.get(key) or self.finished_keys.get(key)

    def active_count(self) -> int:
        return sum(c.pending + c.running for c in self.counts.values())

    def active_up_to(self, seq: int) -> int:
        """Pending or running tasks enqueued at or before ``seq`` (one scan, per drain)."""
        return sum(1 for t in self.tasks.values() if t.status in ACTIVE and t.seq <= seq)

    def add(self, spec: TaskSpec, task_id: str, now: datetime) -> TaskRecord:
        """Add a validated task (the caller checked its key is new)."""
        run_at = spec.run_at if spec.run_at is not None and spec.run_at > now else None
        record = TaskRecord(
            id=task_id,
            seq=self.next_seq,
            type=spec.type,
            payload=spec.payload,
            priority=spec.priority,
            enqueued_at=now,
            run_at=run_at,
            key=spec.key,
        )
        self.next_seq += 1
        self.enqueued += 1
        self.tasks[task_id] = record
        if spec.key is not None:
            self.active_keys[spec.key] = task_id
        self._counts(record.type).pending += 1
        self._queue(record)
        return record

    def _queue(self, record: TaskRecord) -> None:
        if record.run_at is not None:
            heapq.heappush(self.delayed, (record.run_at, record.seq, record.id))
        else:
            heapq.heappush(self.ready, (-record.priority, record.seq, record.id))

    # -- picking -------------------------------------------------------------

    def _promote_due(self, now: datetime) -> None:
        while self.delayed and self.delayed[0][0] <= now:
            _, _, task_id = heapq.heappop(self.delayed)
            record = self.tasks.get(task_id)
            if record is not None and record.status == TaskStatus.PENDING:
                record.run_at = None
                heapq.heappush(self.ready, (-record.priority, record.seq, record.id))

    def _drop_stale(self) -> None:
        # Cancelled tasks leave their heap entry behind; skip it when it surfaces.
        while self.ready:
            record = self.tasks.get(self.ready[0][2])
            if record is not None and record.status == TaskStatus.PENDING:
                return
            heapq.heappop(self.ready)

    def has_ready(self, now: datetime) -> bool:
        self._promote_due(now)
        self._drop_stale()
        return bool(self.ready)

    def next_wake(self) -> datetime | None:
        """When the earliest delayed task becomes due (None: nothing is delayed)."""
        while self.delayed:
            record = self.tasks.get(self.delayed[0][2])
            if record is not None and record.status == TaskStatus.PENDING:
                return self.delayed[0][0]
            heapq.heappop(self.delayed)
        return None

    def start_next(self, now: datetime) -> TaskRecord | None:
        """Mark the next due task running (one more attempt) and return it."""
        if not self.has_ready(now):
            return None
        _, _, task_id = heapq.heappop(self.ready)
        record = self.tasks[task_id]
        self._move(record, TaskStatus.RUNNING)
        record.attempts += 1
        record.started_at = now
        return record

    # -- outcomes ------------------------------------------------------------

    def complete(self, record: TaskRecord, summary: str, details: dict[str, Any], now: datetime):
        record.summary, record.details, record.last_error = summary, details, None
        self._finish(record, TaskStatus.COMPLETED, now)

    def fail(self, record: TaskRecord, error: str, now: datetime) -> None:
        record.last_error = error
        self._move(record, TaskStatus.FAILED)
        record.finished_at = now
        self.drains.finished(record)

    def retry_later(self, record: TaskRecord, error: str, at: datetime) -> None:
        """Back off after a failed attempt: pending again, due at ``at``; no slot is held."""
        record.last_error = error
        record.run_at = at
        self._move(record, TaskStatus.PENDING)
        self._queue(record)

    def _finish(self, record: TaskRecord, status: TaskStatus, now: datetime) -> None:
        self._move(record, status)
        record.finished_at = now
        del self.tasks[record.id]
        window = self.completed if status == TaskStatus.COMPLETED else self.cancelled
        _bounded_put(window, record.id, record, self.config.recent_limit)
        if record.key is not None:
            self.active_keys.pop(record.key, None)
            _bounded_put(self.finished_keys, record.key, record.id, self.config.idempotency_window)
        self.drains.finished(record)

    def _move(self, record: TaskRecord, status: TaskStatus) -> None:
        if record.status == TaskStatus.RUNNING:
            self.running -= 1
        if status == TaskStatus.RUNNING:
            self.running += 1
        counts = self._counts(record.type)
        setattr(counts, record.status.value, getattr(counts, record.status.value) - 1)
        setattr(counts, status.value, getattr(counts, status.value) + 1)
        record.status = status

    def _counts(self, task_type: str) -> TaskCounts:
        counts = self.counts.get(task_type)
        if counts is None:
            counts = self.counts[task_type] = TaskCounts()
        return counts

    # -- commands ------------------------------------------------------------

    def cancel(self, task_id: str, now: datetime) -> TaskRecord:
        record = self.tasks[task_id]
        self._finish(record, TaskStatus.CANCELLED, now)
        return record

    def retry(self, task_id: str) -> TaskRecord:
        """Give a failed task a new round of attempts."""
        record = self.tasks[task_id]
        record.round_start = record.attempts
        record.run_at = record.started_at = record.finished_at = None
        self._move(record, TaskStatus.PENDING)
        self._queue(record)
        self.drains.reactivated(record)
        return record

    def failed_ids(self) -> list[str]:
        return [t.id for t in self.tasks.values() if t.status == TaskStatus.FAILED]

    def purge_failed(self) -> list[str]:
        ids = self.failed_ids()
        for task_id in ids:
            record = self.tasks.pop(task_id)
            self._counts(record.type).failed -= 1
            self.purged += 1
            if record.key is not None:
                # A purged task no longer exists: its key may be used again.
                self.active_keys.pop(record.key, None)
        return ids

    # -- queries -------------------------------------------------------------

    def get(self, task_id: str) -> TaskRecord | None:
        return self.tasks.get(task_id) or self.completed.get(task_id) or self.cancelled.get(task_id)

    def list(self, status: TaskStatus | None, limit: int) -> list[TaskRecord]:
        """Tasks with ``status`` (pending in the order they will run; finished newest first)."""
        if status == TaskStatus.PENDING:
            pending = [t for t in self.tasks.values() if t.status == TaskStatus.PENDING]
            return sorted(pending, key=_run_order)[:limit]
        if status == TaskStatus.COMPLETED:
            return list(reversed(self.completed.values()))[:limit]
        if status == TaskStatus.CANCELLED:
            return list(reversed(self.cancelled.values()))[:limit]
        if status is not None:
            return [t for t in self.tasks.values() if t.status == status][:limit]
        everything = [*self.tasks.values(), *self.completed.values(), *self.cancelled.values()]
        return sorted(everything, key=lambda t: t.seq)[:limit]

    def stats(self, name: str, run_number: int) -> QueueStats:
        total = TaskCounts()
        for counts in self.counts.values():
            for field in TaskCounts.model_fields:
                setattr(total, field, getattr(total, field) + getattr(counts, field))
        return QueueStats(
            queue=name,
            total=total.total,
            **total.model_dump(),
            enqueued=self.enqueued,
            purged=self.purged,
            paused=self.paused,
            run_number=run_number,
            drains=len(self.drains.active),
            by_type={k: v.model_copy() for k, v in sorted(self.counts.items())},
        )


def _run_order(record: TaskRecord) -> tuple[Any, ...]:
    due = record.run_at.timestamp() if record.run_at is not None else 0.0
    return (due, -record.priority, record.seq)


def _bounded_put(window: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    window[key] = value
    window.move_to_end(key)
    while len(window) > limit:
        window.popitem(last=False)
