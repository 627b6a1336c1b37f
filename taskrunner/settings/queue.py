"""Settings of the durable task queue: the queue's own config, plus what clients use."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from taskrunner.queue.models import QueueConfig


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
    bundles: dict[str, int] = Field(default_factory=dict)
    """Per task type, how many ready tasks run in one activity call instead of what the
    type declares (1: one call per task), e.g. ``[queue.bundles] email = 1``. Read by
    workers when they build their task types; a task keeps what it was enqueued with."""

    def config(self, name: str | None = None) -> QueueConfig:
        """The workflow config of queue ``name`` (this section's default queue when None)."""
        fields = self.model_dump(include=set(QueueConfig.model_fields))
        return QueueConfig.model_validate({**fields, "name": name or self.name})
