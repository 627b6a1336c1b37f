"""Settings of the durable task queue."""

from __future__ import annotations

from pydantic import BaseModel, Field


class QueueSettings(BaseModel):
    """The durable task queue (see the README's "Task queue" section).

    Everything but the client-side knobs is fixed when a queue's workflow is
    created and carried over continue-as-new.
    """

    name: str = Field(default="default", min_length=1, max_length=200, pattern=r"^[\w.-]+$")
    """Queue used when a command names none (workflow id ``task-queue/<name>``)."""
    max_concurrency: int = Field(default=10, ge=1, le=1000)
    """Tasks running at once in one queue."""
    start_interval_ms: int = Field(default=0, ge=0, le=3_600_000)
    """Pause between two task starts (the seed's 100 ms DelayStep); 0 = none."""
    recent_limit: int = Field(default=100, ge=0, le=10_000)
    """Completed (and cancelled) tasks kept for listing; counters count them all."""
    idempotency_window: int = Field(default=10_000, ge=0, le=100_000)
    """Keys of finished tasks remembered (newest first); active tasks' keys always are."""
    history_threshold: int = Field(default=5_000, ge=100, le=40_000)
    """Continue as new at this many history events (or earlier when the server suggests)."""
    max_active_tasks: int = Field(default=50_000, ge=1)
    """Pending + running tasks one queue accepts; more are rejected (shard instead)."""
    max_payload_bytes: int = Field(default=128 * 1024, ge=64, le=1024 * 1024)
    """Largest task payload (JSON); big data belongs in a file or URL."""
    batch_size: int = Field(default=500, ge=1, le=5_000)
    """Tasks per update when enqueueing a batch (clients split larger batches)."""
    drain_timeout_seconds: float = Field(default=3600.0, gt=0)
    """Longest the processor waits for one drain before giving up."""
