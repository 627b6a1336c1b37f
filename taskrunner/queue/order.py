"""Which pending task runs next, and when the queue must wake up.

Highest priority first, then oldest; delayed tasks wait for their time, and attempts
adopted from an earlier run (see attempts.py) for their lease to run out. Heaps of
task ids; a task that moved on (cancelled, started, finished) leaves its entry
behind, skipped when it surfaces, so every operation stays O(log n).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from datetime import datetime

from taskrunner.queue.models import TaskRecord, TaskStatus


class RunOrder:
    def __init__(self, tasks: Mapping[str, TaskRecord]) -> None:
        self._tasks = tasks
        self.ready: list[tuple[int, int, str]] = []
        """Heap of (-priority, seq, id): highest priority first, then oldest."""
        self.delayed: list[tuple[datetime, int, str]] = []
        """Heap of (due_at, seq, id) for tasks not due yet."""
        self.leases: list[tuple[datetime, str, int]] = []
        """Heap of (deadline, id, attempts) of running attempts adopted from an earlier run."""

    def push(self, record: TaskRecord) -> None:
        if record.due_at is not None:
            heapq.heappush(self.delayed, (record.due_at, record.seq, record.id))
        else:
            heapq.heappush(self.ready, (-record.spec.priority, record.seq, record.id))

    def _pending(self, task_id: str) -> TaskRecord | None:
        record = self._tasks.get(task_id)
        return record if record is not None and record.status == TaskStatus.PENDING else None

    def has_ready(self, now: datetime) -> bool:
        while self.delayed and self.delayed[0][0] <= now:
            _, _, task_id = heapq.heappop(self.delayed)
            record = self._pending(task_id)
            if record is not None:
                record.due_at = None
                heapq.heappush(self.ready, (-record.spec.priority, record.seq, record.id))
        while self.ready and self._pending(self.ready[0][2]) is None:
            heapq.heappop(self.ready)
        return bool(self.ready)

    def peek_ready(self, now: datetime) -> TaskRecord | None:
        """The next due task, left in the order (None: none is due)."""
        return self._tasks[self.ready[0][2]] if self.has_ready(now) else None

    def pop_ready(self, now: datetime) -> TaskRecord | None:
        """The next due task (taken out of the order), or None."""
        if not self.has_ready(now):
            return None
        return self._tasks[heapq.heappop(self.ready)[2]]

    def next_wake(self) -> datetime | None:
        """When a delayed task becomes due or a lease runs out (None: neither is waited for)."""
        while self.delayed and self._pending(self.delayed[0][2]) is None:
            heapq.heappop(self.delayed)
        while self.leases and self._leased(self.leases[0]) is None:
            heapq.heappop(self.leases)
        wakes = [heap[0][0] for heap in (self.delayed, self.leases) if heap]
        return min(wakes) if wakes else None

    def lease(self, record: TaskRecord, deadline: datetime) -> None:
        heapq.heappush(self.leases, (deadline, record.id, record.attempts))

    def expired(self, now: datetime) -> list[TaskRecord]:
        """Adopted attempts whose lease ran out with no outcome reported."""
        lost = []
        while self.leases and self.leases[0][0] <= now:
            record = self._leased(heapq.heappop(self.leases))
            if record is not None:
                lost.append(record)
        return lost

    def _leased(self, entry: tuple[datetime, str, int]) -> TaskRecord | None:
        _, task_id, attempts = entry
        record = self._tasks.get(task_id)
        running = record is not None and record.status == TaskStatus.RUNNING
        return record if running and record.attempts == attempts else None  # type: ignore[union-attr]
