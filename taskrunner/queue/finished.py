"""What a queue remembers of finished tasks: bounded, and the first thing it can forget.

Completed and cancelled tasks are kept for listing (without their payloads) and the
keys of finished tasks for idempotency, each window bounded by count. Counters,
not these windows, count every task the queue ever finished.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from taskrunner.queue.models import QueueConfig, QueueSnapshot, TaskRecord, TaskStatus


class FinishedTasks:
    def __init__(self, config: QueueConfig) -> None:
        self.config = config
        self.completed: OrderedDict[str, TaskRecord] = OrderedDict()
        """The most recent completed tasks, at most ``recent_limit``."""
        self.cancelled: OrderedDict[str, TaskRecord] = OrderedDict()
        self.keys: OrderedDict[str, str] = OrderedDict()
        """Keys of finished tasks, at most ``idempotency_window`` (oldest forgotten first)."""

    def put(self, record: TaskRecord) -> None:
        if record.spec.payload:
            # Finished tasks are kept for listing only: their payloads would fill the budget.
            record.spec = record.spec.model_copy(update={"payload": {}})
            record.payload_dropped = True
        window = self.completed if record.status == TaskStatus.COMPLETED else self.cancelled
        _bounded_put(window, record.id, record, self.config.recent_limit)
        if record.spec.key is not None:
            _bounded_put(self.keys, record.spec.key, record.id, self.config.idempotency_window)

    def get(self, task_id: str) -> TaskRecord | None:
        return self.completed.get(task_id) or self.cancelled.get(task_id)

    def forget_listings(self) -> None:
        self.completed.clear()
        self.cancelled.clear()

    def dump(self) -> dict[str, Any]:
        """The snapshot fields this memory fills."""
        return {
            "completed": list(self.completed.values()),
            "cancelled": list(self.cancelled.values()),
            "finished_keys": list(self.keys.items()),
        }

    @classmethod
    def load(cls, config: QueueConfig, snapshot: QueueSnapshot) -> FinishedTasks:
        finished = cls(config)
        finished.completed = OrderedDict((t.id, t) for t in snapshot.completed)
        finished.cancelled = OrderedDict((t.id, t) for t in snapshot.cancelled)
        finished.keys = OrderedDict(snapshot.finished_keys)
        return finished


def _bounded_put(window: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    window[key] = value
    window.move_to_end(key)
    while len(window) > limit:
        window.popitem(last=False)
