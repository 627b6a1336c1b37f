"""What goes in and out of the task queue workflow, its commands and the processor."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TaskSpec(BaseModel):
    """One task to enqueue."""

    type: str
    payload: dict[str, Any] = Field(default_factory=dict)
    priority: int = Field(default=0, ge=-1_000_000, le=1_000_000)
    """Higher runs first; equal priorities run oldest first."""
    run_at: AwareDatetime | None = None
    """Not before this instant (a durable timer wakes the queue)."""
    key: str | None = Field(default=None, min_length=1, max_length=200)
    """Idempotency key: enqueueing the same key again returns the existing task's id."""


class EnqueueBatch(BaseModel):
    tasks: list[TaskSpec]


class Enqueued(BaseModel):
    task_id: str
    created: bool
    """False when an idempotency key matched an existing task."""


class BatchEnqueued(BaseModel):
    task_ids: list[str]
    created: int


class TaskRecord(BaseModel):
    """Everything the queue knows about one task."""

    id: str
    seq: int
    """Arrival order within the queue (ties in priority run oldest first)."""
    type: str
    payload: dict[str, Any]
    priority: int = 0
    status: TaskStatus = TaskStatus.PENDING
    attempts: int = 0
    """Attempts made so far, over every retry round."""
    round_start: int = 0
    """``attempts`` when the current retry round began (a manual retry starts a new round)."""
    enqueued_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    run_at: datetime | None = None
    key: str | None = None
    summary: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    last_error: str | None = None


class QueueConfig(BaseModel):
    """How one queue behaves; fixed when the queue workflow is created, carried over CAN."""

    name: str
    max_concurrency: int = Field(default=10, ge=1, le=1000)
    start_interval_ms: int = Field(default=0, ge=0)
    recent_limit: int = Field(default=100, ge=0)
    idempotency_window: int = Field(default=10_000, ge=0)
    history_threshold: int = Field(default=5_000, ge=100)
    max_active_tasks: int = Field(default=50_000, ge=1)
    max_payload_bytes: int = Field(default=128 * 1024, ge=64)


class QueueInput(BaseModel):
    config: QueueConfig
    snapshot: str | None = None
    """State carried over continue-as-new (compressed JSON, see queue_snapshot)."""
    run_number: int = 1


class TaskCounts(BaseModel):
    pending: int = 0
    running: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.running + self.completed + self.failed + self.cancelled


class QueueStats(BaseModel):
    """Counters over the queue's whole life (every run), not only what is kept in memory."""

    queue: str
    total: int
    """Tasks accounted for now: enqueued minus purged."""
    pending: int
    running: int
    completed: int
    failed: int
    cancelled: int
    enqueued: int
    purged: int
    paused: bool
    run_number: int
    drains: int = 0
    """Drain requests waiting right now."""
    by_type: dict[str, TaskCounts] = Field(default_factory=dict)

    def seed_line(self) -> str:
        """The seed's ``Queue stats:`` object."""
        return (
            f"{{ total: {self.total}, pending: {self.pending}, "
            f"completed: {self.completed}, failed: {self.failed} }}"
        )


class ListTasks(BaseModel):
    status: TaskStatus | None = None
    limit: int = Field(default=50, ge=1, le=10_000)


class TaskRef(BaseModel):
    task_id: str


class CommandResult(BaseModel):
    """What a queue command did, in one line plus the ids it touched."""

    message: str
    task_ids: list[str] = Field(default_factory=list)


class DrainRequest(BaseModel):
    up_to_seq: int | None = None
    """Wait for tasks with seq <= this (None: everything pending or running now)."""
    max_outcomes: int = Field(default=1000, ge=0)


class TaskOutcome(BaseModel):
    task_id: str
    type: str
    status: TaskStatus
    attempts: int
    summary: str | None = None
    error: str | None = None


class DrainResult(BaseModel):
    up_to_seq: int
    done: bool
    """False when the queue continued as new first: drain again with the same ``up_to_seq``."""
    paused: bool = False
    """True when it stopped waiting because the queue is paused."""
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    outcomes: list[TaskOutcome] = Field(default_factory=list)
    """Per-task outcomes, at most ``max_outcomes`` (the counters are always complete)."""


class DrainInput(BaseModel):
    queue: str | None = None
    """None: the worker's ``settings.queue.name``."""
    max_outcomes: int = 1000
    resume: bool = False
    """Resume a paused queue before draining it."""


class ProcessorInput(BaseModel):
    queue: str | None = None
    """None: the worker's ``settings.queue.name``."""
    resume: bool = False
    """Resume the queue first if it is paused: `taskrunner demo` enqueues into a paused
    queue so that this run processes (and reports) the tasks, like the seed."""
    drain_timeout_seconds: float | None = None
    """None: one hour."""


class ProcessorSummary(BaseModel):
    queue: str
    processed: int
    succeeded: int
    failed: int
    cancelled: int
    outcomes: list[TaskOutcome]
    stats: QueueStats | None
    """None when the queue does not exist yet."""
    paused: bool = False


class DrainReport(BaseModel):
    """What the drain activity saw: how the drained tasks ended and the queue's stats."""

    queue: str
    result: DrainResult
    stats: QueueStats | None
    """None when the queue does not exist yet (nothing was ever enqueued)."""
