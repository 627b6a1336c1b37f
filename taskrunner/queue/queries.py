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


def gauge_key(state: QueueState) -> tuple[int, ...]:
    """Changes whenever :func:`status_counts` may have; cheap (one step per task type)."""
    pending = running = failed = 0
    for counts in state.counts.values():
        pending, running, failed = (
            pending + counts.pending,
            running + counts.running,
            failed + counts.failed,
        )
    return pending, running, failed, len(state.order.delayed)


def status_counts(state: QueueState) -> dict[str, int]:
    """Tasks in the queue now by taskrunner_queue_tasks status: a pending task is
    ``scheduled`` while its ``run_at`` or retry backoff is ahead, else ``pending``."""
    pending, running, failed, _ = gauge_key(state)
    scheduled = 0
    for due, _, task_id in state.order.delayed:  # entries of tasks that moved on linger
        record = state.tasks.get(task_id)
        if record is not None and record.status == TaskStatus.PENDING and record.due_at == due:
            scheduled += 1
    return {
        "pending": pending - scheduled,
        "scheduled": scheduled,
        "running": running,
        "failed": failed,
    }
