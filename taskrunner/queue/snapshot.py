"""The queue state carried over continue-as-new, as compact compressed JSON.

A queue with a large backlog carries thousands of pending tasks into its next run.
Compressing the JSON keeps that one workflow input far below the server's 2 MB
payload limit (task payloads repeat their field names, so they compress well).
"""

from __future__ import annotations

import base64
import zlib
from collections import OrderedDict

from pydantic import BaseModel, Field

from taskrunner.queue.models import (
    QueueConfig,
    TaskCounts,
    TaskRecord,
    TaskStatus,
)
from taskrunner.queue.state import QueueState


class Snapshot(BaseModel):
    tasks: list[TaskRecord] = Field(default_factory=list)
    completed: list[TaskRecord] = Field(default_factory=list)
    cancelled: list[TaskRecord] = Field(default_factory=list)
    finished_keys: list[tuple[str, str]] = Field(default_factory=list)
    counts: dict[str, TaskCounts] = Field(default_factory=dict)
    enqueued: int = 0
    purged: int = 0
    next_seq: int = 1
    paused: bool = False
    applied: list[tuple[str, list[str], int]] = Field(default_factory=list)


def dump(state: QueueState) -> str:
    """Encode ``state`` (running tasks must have finished: the queue waits for them)."""
    snapshot = Snapshot(
        tasks=list(state.tasks.values()),
        completed=list(state.completed.values()),
        cancelled=list(state.cancelled.values()),
        finished_keys=list(state.finished_keys.items()),
        counts=state.counts,
        enqueued=state.enqueued,
        purged=state.purged,
        next_seq=state.next_seq,
        paused=state.paused,
        applied=[(uid, ids, created) for uid, (ids, created) in state.applied.items()],
    )
    raw = snapshot.model_dump_json(exclude_defaults=True).encode()
    return base64.b64encode(zlib.compress(raw, 6)).decode()


def load(config: QueueConfig, encoded: str) -> QueueState:
    """Rebuild a state (its heaps and key index) from :func:`dump` output."""
    snapshot = Snapshot.model_validate_json(zlib.decompress(base64.b64decode(encoded)))
    state = QueueState(config)
    state.counts = snapshot.counts
    state.running = sum(c.running for c in snapshot.counts.values())
    state.enqueued, state.purged = snapshot.enqueued, snapshot.purged
    state.next_seq, state.paused = snapshot.next_seq, snapshot.paused
    state.completed = OrderedDict((t.id, t) for t in snapshot.completed)
    state.cancelled = OrderedDict((t.id, t) for t in snapshot.cancelled)
    state.finished_keys = OrderedDict(snapshot.finished_keys)
    for update_id, ids, created in snapshot.applied:
        state.remember(update_id, ids, created)
    for record in sorted(snapshot.tasks, key=lambda t: t.seq):
        if record.status == TaskStatus.RUNNING:
            # Defensive only: the queue lets running tasks finish before it continues.
            state._move(record, TaskStatus.PENDING)
        state.tasks[record.id] = record
        if record.key is not None:
            state.active_keys[record.key] = record.id
        if record.status == TaskStatus.PENDING:
            state._queue(record)
    return state
