"""The durable task queue: one workflow per named queue, its state, drains, admission and
retries, the per-minute processor, and the client producers use."""
