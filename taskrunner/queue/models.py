"""What goes in and out of the task queue workflow, its commands and the processor."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from taskrunner.tasks.registry import TaskExecution, TaskResult


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
    """Everything the queue knows about one task: the spec it was enqueued with, and since."""

    id: str
    seq: int
    """Arrival order within the queue (ties in priority run oldest first)."""
    spec: TaskSpec
    execution: str
    """Key of the :class:`TaskExecution` captured at enqueue (the queue's executions table)."""
    status: TaskStatus = TaskStatus.PENDING
    attempts: int = 0
    """Attempts made so far, over every retry round."""
    round_start: int = 0
    """``attempts`` when the current retry round began (a manual retry starts a new round)."""
    enqueued_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    due_at: datetime | None = None
    """Not before this instant: the spec's ``run_at``, or the end of a retry backoff."""
    result: TaskResult | None = None
    last_error: str | None = None
    payload_dropped: bool = False
    """The payload is not kept once the task finished (finished tasks keep what it did)."""

    @property
    def type(self) -> str:
        return self.spec.type

    @property
    def round_attempts(self) -> int:
        """Attempts of the current retry round."""
        return self.attempts - self.round_start


QUEUE_NAME_PATTERN = r"^[\w.-]+$"


class QueueConfig(BaseModel):
    """How one queue behaves: fixed when its workflow is created, carried over continue-as-new.

    The ``[queue]`` settings section extends this model, so each bound is defined here once.
    """

    name: str = Field(default="default", min_length=1, max_length=200, pattern=QUEUE_NAME_PATTERN)
    """The queue's name (workflow id ``task-queue/<name>``); in settings, the default queue."""
    max_concurrency: int = Field(default=10, ge=1, le=1000)
    """Tasks running at once in one queue."""
    start_interval_ms: int = Field(default=0, ge=0, le=3_600_000)
    """Pause between two task starts; 0 = none."""
    recent_limit: int = Field(default=100, ge=0, le=10_000)
    """Completed (and cancelled) tasks kept for listing; counters count them all."""
    idempotency_window: int = Field(default=10_000, ge=0, le=100_000)
    """Keys of finished tasks remembered (newest first); active tasks' keys always are."""
    history_threshold: int = Field(default=5_000, ge=100, le=40_000)
    """Continue as new at this many history events (or earlier when the server suggests)."""
    max_active_tasks: int = Field(default=10_000, ge=1, le=100_000)
    """Pending + running tasks one queue accepts; more are rejected (shard instead).
    10,000 small tasks with idempotency keys take about a third of the default state budget."""
    max_payload_bytes: int = Field(default=128 * 1024, ge=64, le=1024 * 1024)
    """Largest task payload (compact JSON bytes); big data belongs in a file or URL."""
    state_budget_bytes: int = Field(default=1_000_000, ge=64 * 1024, le=1_500_000)
    """Most the queue carries over continue-as-new (encoded bytes): enqueues that would take
    it further are refused. Temporal refuses a payload over 2 MiB, and the queue then stops."""


def queue_workflow_id(name: str) -> str:
    """The id of queue ``name``'s workflow."""
    return f"task-queue/{name}"


class QueueInput(BaseModel):
    config: QueueConfig
    snapshot: str | None = None
    """State carried over continue-as-new (compressed JSON, see QueueState.to_snapshot)."""
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

    def summary_line(self) -> str:
        """``{ total: 4, pending: 0, completed: 4, failed: 0 }``: the line the processor logs."""
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
    max_outcomes: int = Field(default=100, ge=0, le=2000)
    """Per-task outcomes kept for the caller (the counters are always complete)."""
    through_retries: bool = False
    """Also wait for tasks backing off before their next attempt (never for future run_at)."""


class DrainRef(BaseModel):
    drain_id: str


class TaskOutcome(BaseModel):
    task_id: str
    type: str
    status: TaskStatus
    attempts: int
    summary: str | None = None
    error: str | None = None


class DrainResult(BaseModel):
    """Where one drain stands: what it waits for, and how the tasks it counts ended.

    A drain counts the tasks enqueued before it began (``seq <= up_to_seq``). It waits
    only for those due now (pending and due, or running); tasks whose ``run_at`` is
    later, or that back off before another attempt, are ``scheduled`` and not waited for.
    """

    drain_id: str = ""
    up_to_seq: int
    done: bool
    """True once no task it counts is due or running."""
    paused: bool = False
    """True when the queue is paused (nothing runs until ``resume``)."""
    waiting: int = 0
    """Tasks it counts that are due or running now."""
    scheduled: int = 0
    """Tasks it counts that wait for a later time (``run_at`` or a retry backoff)."""
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    outcomes: list[TaskOutcome] = Field(default_factory=list)
    """Per-task outcomes, at most ``max_outcomes`` (the counters are always complete)."""

    @property
    def processed(self) -> int:
        return self.completed + self.failed + self.cancelled


class DrainInput(BaseModel):
    queue: str | None = None
    """None: the worker's ``settings.queue.name``."""
    max_outcomes: int = 100
    resume: bool = False
    """Resume a paused queue before draining it."""


class ProcessorInput(BaseModel):
    queue: str | None = None
    """None: the worker's ``settings.queue.name``."""
    resume: bool = False
    """Resume the queue first if it is paused: `taskrunner demo` enqueues into a paused
    queue so that this run processes (and reports) the tasks it enqueued."""
    drain_timeout_seconds: float | None = None
    """None: one hour."""


class DrainReport(BaseModel):
    """What a drain saw: how the drained tasks ended, and the queue's stats after.

    Returned by the drain activity and, as it is, by TaskProcessorWorkflow.
    """

    queue: str
    result: DrainResult
    stats: QueueStats | None
    """None when the queue does not exist yet (nothing was ever enqueued)."""

    @property
    def processed(self) -> int:
        return self.result.processed


class DrainState(BaseModel):
    """One drain as the queue keeps it (carried over continue-as-new)."""

    started_at: datetime
    max_outcomes: int
    through_retries: bool = False
    result: DrainResult
    failed_ids: list[str] = Field(default_factory=list)
    """Tasks counted as failed: a manual retry takes them back out of the count."""


class QueueSnapshot(BaseModel):
    """The state carried from one queue run to the next."""

    tasks: list[TaskRecord] = Field(default_factory=list)
    executions: list[TaskExecution] = Field(default_factory=list)
    completed: list[TaskRecord] = Field(default_factory=list)
    cancelled: list[TaskRecord] = Field(default_factory=list)
    finished_keys: list[tuple[str, str]] = Field(default_factory=list)
    counts: dict[str, TaskCounts] = Field(default_factory=dict)
    enqueued: int = 0
    purged: int = 0
    next_seq: int = 1
    paused: bool = False
    applied: list[tuple[str, list[str], int]] = Field(default_factory=list)
    drains: list[DrainState] = Field(default_factory=list)
