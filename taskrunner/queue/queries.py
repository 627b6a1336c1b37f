"""What the queue's queries answer: listings and counters, read from its state."""

from __future__ import annotations

from typing import Any

from taskrunner.queue.models import QueueStats, TaskCounts, TaskRecord, TaskStatus
from taskrunner.queue.state import QueueState


def list_tasks(state: QueueState, status: TaskStatus | None, limit: int) -> list[TaskRecord]:
    """Tasks with ``status`` (pending in the order they will run; finished newest first)."""
    if status == TaskStatus.PENDING:
        pending = [t for t in state.tasks.values() if t.status == TaskStatus.PENDING]
        return sorted(pending, key=_run_order)[:limit]
    if status == TaskStatus.COMPLETED:
        return list(reversed(state.finished.completed.values()))[:limit]
    if status == TaskStatus.CANCELLED:
        return list(reversed(state.finished.cancelled.values()))[:limit]
    if status is not None:
        return [t for t in state.tasks.values() if t.status == status][:limit]
    everything = [
        *state.tasks.values(),
        *state.finished.completed.values(),
        *state.finished.cancelled.values(),
    ]
    return sorted(everything, key=lambda t: t.seq)[:limit]


def queue_stats(state: QueueState, name: str, run_number: int) -> QueueStats:
    total = TaskCounts()
    for counts in state.counts.values():
        for field in TaskCounts.model_fields:
            setattr(total, field, getattr(total, field) + getattr(counts, field))
    return QueueStats(
        queue=name,
        total=total.total,
        **total.model_dump(),
        enqueued=state.enqueued,
        purged=state.purged,
        paused=state.paused,
        run_number=run_number,
        drains=len(state.drains.active),
        by_type={k: v.model_copy() for k, v in sorted(state.counts.items())},
    )


def _run_order(record: TaskRecord) -> tuple[Any, ...]:
    due = record.due_at.timestamp() if record.due_at is not None else 0.0
    return (due, -record.spec.priority, record.seq)
