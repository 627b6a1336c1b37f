"""Figure 5: many tasks through one queue, across continue-as-new.

The worker runs in this process (with the client that enqueues and drains), so the
RSS sampled here is worker + client; the dev server is a separate process.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass

import psutil

from bench.harness import Server
from bench.noop_task import STARTS
from bench.queue_setup import queue_client, queue_worker, specs

RSS_SAMPLE_SECONDS = 0.25


@dataclass
class LongRun:
    tasks_per_second: float
    runs: int
    continue_as_new: int
    max_history_events: int
    peak_rss_mb: float


async def long_run(server: Server, tasks: int, concurrency: int) -> LongRun:
    process = psutil.Process()
    peak = process.memory_info().rss

    async def sample() -> None:
        nonlocal peak
        while True:
            peak = max(peak, process.memory_info().rss)
            await asyncio.sleep(RSS_SAMPLE_SECONDS)

    sampler = asyncio.create_task(sample())
    try:
        async with queue_worker(server, max_concurrency=concurrency) as settings:
            client = queue_client(server, settings, f"bench-{uuid.uuid4().hex[:8]}")
            await client.enqueue_batch(specs(tasks))
            result = await client.drain(max_outcomes=0)
            ended = time.time()
            stats = await client.stats()
            assert result.done and stats.completed == tasks, stats
            first_start = min(STARTS.values())
            lengths = await history_lengths(server, client.workflow_id)
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    return LongRun(
        tasks_per_second=tasks / (ended - first_start),
        runs=len(lengths),
        continue_as_new=len(lengths) - 1,
        max_history_events=max(lengths),
        peak_rss_mb=peak / 2**20,
    )


async def history_lengths(server: Server, workflow_id: str) -> list[int]:
    """History length of every run of ``workflow_id`` (visibility lists them)."""
    lengths = []
    async for execution in server.client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        handle = server.client.get_workflow_handle(workflow_id, run_id=execution.run_id)
        lengths.append((await handle.describe()).history_length)
    return lengths
