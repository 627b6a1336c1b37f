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
    max_snapshot_bytes: int
    """The largest continue-as-new input of any run (the server refuses 2 MiB)."""
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
        # All tasks at once: the queue must hold them (its default is 10,000).
        async with queue_worker(
            server, max_concurrency=concurrency, max_active_tasks=max(tasks, 10_000)
        ) as settings:
            client = queue_client(server, settings, f"bench-{uuid.uuid4().hex[:8]}")
            await client.enqueue_batch(specs(tasks))
            result = await client.drain(max_outcomes=0, through_retries=True)
            ended = time.time()
            stats = await client.stats()
            assert result.done and stats.completed == tasks, stats
            first_start = min(STARTS.values())
            lengths, inputs = await run_sizes(server, client.workflow_id)
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    return LongRun(
        tasks_per_second=tasks / (ended - first_start),
        runs=len(lengths),
        continue_as_new=len(lengths) - 1,
        max_history_events=max(lengths),
        max_snapshot_bytes=max(inputs),
        peak_rss_mb=peak / 2**20,
    )


async def run_sizes(server: Server, workflow_id: str) -> tuple[list[int], list[int]]:
    """History length and input size (bytes) of every run of ``workflow_id``."""
    lengths, inputs = [], []
    async for execution in server.client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        handle = server.client.get_workflow_handle(workflow_id, run_id=execution.run_id)
        lengths.append((await handle.describe()).history_length)
        async for event in handle.fetch_history_events():
            started = event.workflow_execution_started_event_attributes
            inputs.append(sum(p.ByteSize() for p in started.input.payloads))
            break
    return lengths, inputs
