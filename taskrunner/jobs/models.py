"""What goes in and out of JobFireWorkflow and its activities."""

from __future__ import annotations

from datetime import time

from pydantic import BaseModel

from taskrunner.queue.models import TaskSpec, TaskStatus


class DailySlot(BaseModel):
    """A once-per-local-day job's fire times: ``at``, and the backup fire an hour later."""

    timezone: str
    at: time
    backup: time | None = None
    """None: no backup fire (see taskrunner/jobs/schedule.py ``backup_cron``)."""


class JobFire(BaseModel):
    """The input every fire of one job's schedule starts JobFireWorkflow with."""

    job: str
    """The job's name."""
    key_prefix: str
    """``job:<schedule id prefix><name>``: the task's idempotency key starts with it."""
    queue: str
    task: TaskSpec
    """The task to enqueue (its ``key`` is made per fire)."""
    wait: bool = True
    """Overlap "skip": the run lasts until its task has finished, so that the schedule's
    SKIP policy drops fires while the task is pending or running."""
    daily: DailySlot | None = None
    """Set for a once-per-local-day job: the key is the local date, not the fire time."""


class EnqueueJobTask(BaseModel):
    job: str
    queue: str
    spec: TaskSpec


class JobTaskRef(BaseModel):
    queue: str
    task_id: str


class JobTaskEnded(BaseModel):
    """How a job's task ended, as the queue last told it."""

    status: TaskStatus | None
    """None: the queue no longer knows the task (it finished long ago, or was purged)."""
    error: str | None = None


class JobFireResult(BaseModel):
    job: str
    key: str
    task_id: str
    created: bool
    """False when the key matched a task already enqueued (a repeated or backup fire)."""
    status: TaskStatus | None = None
    """How the task ended (overlap "skip" only; "allow" does not wait for it)."""
