"""Figures 2 and 6: no-op tasks through one queue, or sharded over several queues."""

from __future__ import annotations

import asyncio
import time
import uuid

from bench.harness import Server
from bench.noop_task import STARTS
from bench.queue_setup import queue_client, queue_worker, specs


async def queue_tasks_per_second(server: Server, tasks: int, concurrency: int) -> float:
    """Batch-enqueue ``tasks`` no-op tasks into one queue; tasks/s from first start to drained."""
    return await sharded_tasks_per_second(server, tasks, concurrency, shards=1)


async def sharded_tasks_per_second(
    server: Server, tasks: int, concurrency: int, shards: int
) -> float:
    """The same load split evenly over ``shards`` queues, each at ``concurrency``."""
    async with queue_worker(server, max_concurrency=concurrency) as settings:
        clients = [
            queue_client(server, settings, f"bench-{uuid.uuid4().hex[:8]}") for _ in range(shards)
        ]
        share = tasks // shards

        async def one(index: int) -> float:
            client = clients[index]
            await client.enqueue_batch(specs(share))
            result = await client.drain(max_outcomes=0, through_retries=True)
            ended = time.time()
            stats = await client.stats()
            assert result.done and stats.completed == share, stats
            return ended

        ends = await asyncio.gather(*(one(i) for i in range(shards)))
        first_start = min(STARTS.values())
    return share * shards / (max(ends) - first_start)
