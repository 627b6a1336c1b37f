"""Periodic jobs: a Temporal Schedule per job whose fire enqueues one task into a queue."""
