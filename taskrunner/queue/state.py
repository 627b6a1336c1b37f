"""The queue's state as a plain, deterministic data structure (no Temporal calls).

The workflow owns one :class:`QueueState` and passes it ``now``; everything here is
unit-testable without a server. Every operation on the hot path is O(log n) or
O(1): heaps order pending work, counters are kept incrementally, and finished
tasks live in bounded windows.
"""

from __future__ import annotations

import base64
import heapq
import zlib
from collections import OrderedDict
from datetime import datetime
from typing import Any

from taskrunner.queue.drains import DrainTracker
from taskrunner.queue.models import (
    QueueConfig,
    QueueSnapshot,
    TaskCounts,
    TaskRecord,
    TaskSpec,
    TaskStatus,
)
from taskrunner.queue.resent import AppliedUpdates
from taskrunner.tasks.registry import TaskExecution, TaskResult

ACTIVE = (TaskStatus.PENDING, TaskStatus.RUNNING)


class QueueState:
    """Tasks, their order, counters and idempotency keys of one queue."""

    def __init__(self, config: QueueConfig) -> None:
        self.config = config
        self.tasks: dict[str, TaskRecord] = {}
        """Pending, running and failed tasks (what must never be lost)."""
        self.executions: dict[str, TaskExecution] = {}
        """How tasks run, by key: captured from their types when they were enqueued."""
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
        self.applied = AppliedUpdates()

    # -- enqueue -------------------------------------------------------------

    def find_key(self, key: str | None) -> str | None:
        if key is None:
            return None
        return self.active_keys.get(key) or self.finished_keys.get(key)

    def active_count(self) -> int:
        return sum(c.pending + c.running for c in self.counts.values())

    def active_up_to(self, seq: int) -> int:
        """Pending or running tasks enqueued at or before ``seq`` (one scan, per drain)."""
        return sum(1 for t in self.tasks.values() if t.status in ACTIVE and t.seq <= seq)

    def add(
        self, spec: TaskSpec, task_id: str, now: datetime, execution: TaskExecution
    ) -> TaskRecord:
        """Add a validated task (the caller checked its key is new)."""
        due = spec.run_at if spec.run_at is not None and spec.run_at > now else None
        self.executions.setdefault(execution.key, execution)
        record = TaskRecord(
            id=task_id,
            seq=self.next_seq,
            spec=spec,
            execution=execution.key,
            enqueued_at=now,
            due_at=due,
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
        if record.due_at is not None:
            heapq.heappush(self.delayed, (record.due_at, record.seq, record.id))
        else:
            heapq.heappush(self.ready, (-record.spec.priority, record.seq, record.id))

    # -- picking -------------------------------------------------------------

    def _promote_due(self, now: datetime) -> None:
        while self.delayed and self.delayed[0][0] <= now:
            _, _, task_id = heapq.heappop(self.delayed)
            record = self.tasks.get(task_id)
            if record is not None and record.status == TaskStatus.PENDING:
                record.due_at = None
                heapq.heappush(self.ready, (-record.spec.priority, record.seq, record.id))

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

    def complete(self, record: TaskRecord, result: TaskResult, now: datetime) -> None:
        record.result, record.last_error = result, None
        self._finish(record, TaskStatus.COMPLETED, now)

    def fail(self, record: TaskRecord, error: str, now: datetime) -> None:
        record.last_error = error
        self._move(record, TaskStatus.FAILED)
        record.finished_at = now
        self.drains.finished(record)

    def retry_later(self, record: TaskRecord, error: str, at: datetime) -> None:
        """Back off after a failed attempt: pending again, due at ``at``; no slot is held."""
        record.last_error = error
        record.due_at = at
        self._move(record, TaskStatus.PENDING)
        self._queue(record)

    def _finish(self, record: TaskRecord, status: TaskStatus, now: datetime) -> None:
        self._move(record, status)
        record.finished_at = now
        del self.tasks[record.id]
        window = self.completed if status == TaskStatus.COMPLETED else self.cancelled
        _bounded_put(window, record.id, record, self.config.recent_limit)
        key = record.spec.key
        if key is not None:
            self.active_keys.pop(key, None)
            _bounded_put(self.finished_keys, key, record.id, self.config.idempotency_window)
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
        record.due_at = record.started_at = record.finished_at = None
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
            if record.spec.key is not None:
                # A purged task no longer exists: its key may be used again.
                self.active_keys.pop(record.spec.key, None)
        return ids

    # -- queries -------------------------------------------------------------

    def get(self, task_id: str) -> TaskRecord | None:
        return self.tasks.get(task_id) or self.completed.get(task_id) or self.cancelled.get(task_id)

    # -- continue-as-new -------------------------------------------------------

    def to_snapshot(self) -> str:
        """Everything a next run needs, as compressed JSON (running tasks have finished).

        Task payloads repeat their field names, so a large backlog compresses well.
        """
        live = {r.execution for r in self.tasks.values()}
        snapshot = QueueSnapshot(
            tasks=list(self.tasks.values()),
            executions=[e for key, e in self.executions.items() if key in live],
            completed=list(self.completed.values()),
            cancelled=list(self.cancelled.values()),
            finished_keys=list(self.finished_keys.items()),
            counts=self.counts,
            enqueued=self.enqueued,
            purged=self.purged,
            next_seq=self.next_seq,
            paused=self.paused,
            applied=self.applied.dump(),
        )
        raw = snapshot.model_dump_json(exclude_defaults=True).encode()
        return base64.b64encode(zlib.compress(raw, 6)).decode()

    @classmethod
    def from_snapshot(cls, config: QueueConfig, encoded: str) -> QueueState:
        """Rebuild a state (its heaps and key index) from :meth:`to_snapshot` output."""
        snapshot = QueueSnapshot.model_validate_json(zlib.decompress(base64.b64decode(encoded)))
        state = cls(config)
        state.counts = snapshot.counts
        state.enqueued, state.purged = snapshot.enqueued, snapshot.purged
        state.next_seq, state.paused = snapshot.next_seq, snapshot.paused
        state.executions = {e.key: e for e in snapshot.executions}
        state.completed = OrderedDict((t.id, t) for t in snapshot.completed)
        state.cancelled = OrderedDict((t.id, t) for t in snapshot.cancelled)
        state.finished_keys = OrderedDict(snapshot.finished_keys)
        state.applied = AppliedUpdates.load(snapshot.applied)
        for record in sorted(snapshot.tasks, key=lambda t: t.seq):
            state.tasks[record.id] = record
            if record.spec.key is not None:
                state.active_keys[record.spec.key] = record.id
            if record.status == TaskStatus.PENDING:
                state._queue(record)
        return state


def _bounded_put(window: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    window[key] = value
    window.move_to_end(key)
    while len(window) > limit:
        window.popitem(last=False)
