"""Settings of the durable task queue: the queue's own config, plus what clients use."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from taskrunner.queue.models import QueueConfig


class TaskPath(BaseModel):
    """How one task type's attempts run (``[queue.task_paths.<type>]``)."""

    model_config = ConfigDict(extra="forbid")

    path: Literal["local", "remote"]
    """``local``: the fast path (local activities, at most 60 s an attempt); ``remote``:
    an activity task any worker of the task queue may take."""
    bundle: int = Field(default=1, ge=1, le=100)
    """With ``local``: ready tasks of the type run together in one call, up to this many."""


class QueueSettings(QueueConfig):
    """The ``[queue]`` section (see the README's "Task queue" section).

    Every field of :class:`QueueConfig` is fixed when a queue's workflow is created
    and carried over continue-as-new; ``name`` is the queue commands use when they
    name none. The fields below are read by clients only.
    """

    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(default=500, ge=1, le=5_000)
    """Tasks per update when enqueueing a batch (clients split larger batches)."""
    drain_timeout_seconds: float = Field(default=3600.0, gt=0)
    """Longest the processor waits for one drain before giving up."""
    task_paths: dict[str, TaskPath] = Field(default_factory=dict)
    """Per task type, the path its attempts take instead of the one it declares, e.g.
    ``[queue.task_paths.email] path = "remote"``. Read by workers when they build their
    task types; a task keeps the path it was enqueued with."""

    def config(self, name: str | None = None) -> QueueConfig:
        """The workflow config of queue ``name`` (this section's default queue when None)."""
        fields = self.model_dump(include=set(QueueConfig.model_fields))
        return QueueConfig.model_validate({**fields, "name": name or self.name})
