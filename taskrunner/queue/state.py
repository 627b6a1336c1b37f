"""The queue's state as a plain, deterministic data structure (no Temporal calls).

The workflow owns one :class:`QueueState` and passes it ``now``; everything here is
unit-testable without a server. Every operation on the hot path is O(log n) or
O(1): heaps order pending work, counters are kept incrementally, and finished
tasks live in bounded windows.
"""

from __future__ import annotations

import base64
import zlib
from datetime import datetime

from taskrunner.queue.attempts import LEASE_GRACE
from taskrunner.queue.budget import MAX_ERROR_CHARS, StateBudget, json_size
from taskrunner.queue.drains import DrainTracker
from taskrunner.queue.finished import FinishedTasks
from taskrunner.queue.models import (
    QueueConfig,
    QueueSnapshot,
    TaskCounts,
    TaskRecord,
    TaskSpec,
    TaskStatus,
)
from taskrunner.queue.order import RunOrder
from taskrunner.queue.resent import AppliedUpdates
from taskrunner.tasks.registry import TaskExecution, TaskResult

KEPT_RESULT_BYTES = 2_000
"""A finished task's result details are kept up to this size (its summary always is)."""


class QueueState:
    """Tasks, their order, counters and idempotency keys of one queue."""

    def __init__(self, config: QueueConfig) -> None:
        self.config = config
        self.tasks: dict[str, TaskRecord] = {}
        """Pending, running and failed tasks (what must never be lost)."""
        self.executions: dict[str, TaskExecution] = {}
        """How tasks run, by key: captured from their types when they were enqueued."""
        self.finished = FinishedTasks(config)
        self.order = RunOrder(self.tasks)
        self.active_keys: dict[str, str] = {}
        self.counts: dict[str, TaskCounts] = {}
        self.enqueued = 0
        self.purged = 0
        self.next_seq = 1
        self.paused = False
        self.running = 0
        self.drains = DrainTracker()
        self.applied = AppliedUpdates()
        self.budget = StateBudget()
        self.shed: list[str] = []
        """What :meth:`to_snapshot` had to forget to fit its limit (for the workflow's log)."""

    # -- enqueue -------------------------------------------------------------

    def find_key(self, key: str | None) -> str | None:
        if key is None:
            return None
        return self.active_keys.get(key) or self.finished.keys.get(key)

    def active_count(self) -> int:
        return sum(c.pending + c.running for c in self.counts.values())

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
        self.order.push(record)
        self.budget.added(json_size(spec.payload) + len(spec.key or ""))
        return record

    def has_ready(self, now: datetime) -> bool:
        return self.order.has_ready(now)

    def next_wake(self) -> datetime | None:
        return self.order.next_wake()

    def next_ready(self, now: datetime) -> TaskRecord | None:
        """The task :meth:`start_next` would start now, left pending (None: none is due)."""
        return self.order.peek_ready(now)

    def start_next(self, now: datetime) -> TaskRecord | None:
        """Mark the next due task running (one more attempt) and return it."""
        record = self.order.pop_ready(now)
        if record is None:
            return None
        self._move(record, TaskStatus.RUNNING)
        record.attempts += 1
        record.started_at = now
        return record

    # -- outcomes ------------------------------------------------------------

    def complete(self, record: TaskRecord, result: TaskResult, now: datetime) -> None:
        if json_size(result.details) > KEPT_RESULT_BYTES:
            result = TaskResult(summary=result.summary[:KEPT_RESULT_BYTES])
        record.result, record.last_error = result, None
        self._finish(record, TaskStatus.COMPLETED, now)

    def fail(self, record: TaskRecord, error: str, now: datetime) -> None:
        record.last_error = error[:MAX_ERROR_CHARS]
        self._move(record, TaskStatus.FAILED)
        record.finished_at = now
        self.drains.finished(record)

    def retry_later(self, record: TaskRecord, error: str, at: datetime) -> None:
        """Back off after a failed attempt: pending again, due at ``at``; no slot is held."""
        record.last_error = error[:MAX_ERROR_CHARS]
        record.due_at = at
        self._move(record, TaskStatus.PENDING)
        self.order.push(record)

    def _finish(self, record: TaskRecord, status: TaskStatus, now: datetime) -> None:
        self._move(record, status)
        record.finished_at = now
        del self.tasks[record.id]
        if record.spec.key is not None:
            self.active_keys.pop(record.spec.key, None)
        self.finished.put(record)
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
        self.order.push(record)
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
        return self.tasks.get(task_id) or self.finished.get(task_id)

    # -- continue-as-new -------------------------------------------------------

    def to_snapshot(self, limit: int | None = None) -> str:
        """Everything a next run needs, as compressed JSON (running tasks have finished).

        Task payloads repeat their field names, so a large backlog compresses well.
        With ``limit``, memory of finished work (listings, finished keys, applied updates,
        long errors) is shed, least useful first, until the snapshot fits: the budget
        admits no more unfinished work than fits on its own.
        """
        encoded = self._encode()
        sheds = (
            self._forget_drain_outcomes,
            self._forget_listings,
            self._forget_history,
            self._shorten_errors,
        )
        for shed in sheds:
            if limit is None or len(encoded) <= limit:
                break
            shed()
            self.shed.append(shed.__doc__ or shed.__name__)
            encoded = self._encode()
        return encoded

    def _forget_drain_outcomes(self) -> None:
        """the per-task outcomes waiting drains collected (their counters stay)"""
        self.drains.forget_outcomes()

    def _forget_listings(self) -> None:
        """the completed and cancelled tasks kept for listing"""
        self.finished.forget_listings()

    def _forget_history(self) -> None:
        """finished tasks' idempotency keys and re-sent update answers"""
        self.finished.keys.clear()
        self.applied = AppliedUpdates()

    def _shorten_errors(self) -> None:
        """the end of long error texts"""
        for record in self.tasks.values():
            if record.last_error:
                record.last_error = record.last_error[:40]

    def _encode(self) -> str:
        return self.measure()[0]

    def measure(self) -> tuple[str, int]:
        """The encoded snapshot, and the size of its JSON before compression."""
        live = {r.execution for r in self.tasks.values()}
        snapshot = QueueSnapshot(
            tasks=list(self.tasks.values()),
            executions=[e for key, e in self.executions.items() if key in live],
            **self.finished.dump(),
            counts=self.counts,
            enqueued=self.enqueued,
            purged=self.purged,
            next_seq=self.next_seq,
            paused=self.paused,
            applied=self.applied.dump(),
            drains=list(self.drains.active.values()),
        )
        raw = snapshot.model_dump_json(exclude_defaults=True).encode()
        return base64.b64encode(zlib.compress(raw, 6)).decode(), len(raw)

    @classmethod
    def from_snapshot(cls, config: QueueConfig, encoded: str) -> QueueState:
        """Rebuild a state (its heaps and key index) from :meth:`to_snapshot` output."""
        snapshot = QueueSnapshot.model_validate_json(zlib.decompress(base64.b64decode(encoded)))
        state = cls(config)
        state.counts = snapshot.counts
        state.enqueued, state.purged = snapshot.enqueued, snapshot.purged
        state.next_seq, state.paused = snapshot.next_seq, snapshot.paused
        state.executions = {e.key: e for e in snapshot.executions}
        state.finished = FinishedTasks.load(config, snapshot)
        state.applied = AppliedUpdates.load(snapshot.applied)
        state.budget = StateBudget(measured=len(encoded))
        state.drains = DrainTracker((d.result.drain_id, d) for d in snapshot.drains)
        for record in sorted(snapshot.tasks, key=lambda t: t.seq):
            state.tasks[record.id] = record
            if record.spec.key is not None:
                state.active_keys[record.spec.key] = record.id
            if record.status == TaskStatus.PENDING:
                state.order.push(record)
            elif record.status == TaskStatus.RUNNING:
                # Still running on its worker, which reports its outcome to this run.
                state.running += 1
                state.order.lease(record, state._lease_end(record))
        return state

    def _lease_end(self, record: TaskRecord) -> datetime:
        assert record.started_at is not None
        timeout = self.executions[record.execution].start_to_close_timeout
        return record.started_at + timeout + LEASE_GRACE

    def recovery_snapshot(self, limit: int) -> str:
        """A snapshot for a new run after this one was cut off: running tasks are pending again."""
        copy = QueueState.from_snapshot(self.config, self._encode())
        for record in copy.tasks.values():
            if record.status == TaskStatus.RUNNING:
                copy._move(record, TaskStatus.PENDING)
                record.due_at = None
        return copy.to_snapshot(limit)
