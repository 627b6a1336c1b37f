"""Figure 3: how fast a queue accepts tasks, one update per task or in batches."""

from __future__ import annotations

import asyncio
import time
import uuid

from bench.harness import Server
from bench.queue_setup import queue_client, queue_worker, specs

PRODUCERS = 50
"""Concurrent producers of single enqueues (5x the server's 10 in-flight updates)."""


async def single_enqueues_per_second(server: Server, tasks: int) -> float:
    """``tasks`` single enqueue updates from PRODUCERS concurrent producers, into a paused queue.

    The queue is paused so the figure is the acceptance rate alone; RESOURCE_EXHAUSTED
    answers (more than 10 in-flight updates) are retried by QueueClient.
    """
    async with queue_worker(server) as settings:
        client = queue_client(server, settings, f"bench-{uuid.uuid4().hex[:8]}")
        await client.enqueue_batch(specs(1))
        await client.pause()
        todo = specs(tasks)

        async def producer(part: int) -> None:
            for spec in todo[part::PRODUCERS]:
                await client.enqueue(spec)

        started = time.perf_counter()
        await asyncio.gather(*(producer(p) for p in range(PRODUCERS)))
        elapsed = time.perf_counter() - started
        stats = await client.stats()
    assert stats.pending >= tasks, stats
    return tasks / elapsed


async def batch_enqueues_per_second(server: Server, tasks: int) -> float:
    """``tasks`` tasks by QueueClient.enqueue_batch (``batch_size`` per update), paused queue."""
    async with queue_worker(server) as settings:
        client = queue_client(server, settings, f"bench-{uuid.uuid4().hex[:8]}")
        await client.enqueue_batch(specs(1))
        await client.pause()
        todo = specs(tasks)
        started = time.perf_counter()
        result = await client.enqueue_batch(todo)
        elapsed = time.perf_counter() - started
    assert result.created == tasks
    return tasks / elapsed
