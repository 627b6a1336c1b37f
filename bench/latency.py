"""Figure 4: latency of one task on an idle queue, enqueue to start and to completion."""

from __future__ import annotations

import time
import uuid

from bench.harness import Server
from bench.noop_task import STARTS
from bench.queue_setup import queue_client, queue_worker, specs


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def idle_latencies_ms(server: Server, tasks: int) -> dict[str, float]:
    """Enqueue ``tasks`` tasks one at a time, each after the previous finished.

    Start: the activity's own clock when it began. Completed: the task record's
    ``finished_at`` (the queue's workflow time when it saw the activity's result).
    Same machine, same clock.
    """
    to_start: list[float] = []
    to_done: list[float] = []
    async with queue_worker(server) as settings:
        client = queue_client(server, settings, f"bench-{uuid.uuid4().hex[:8]}")
        await client.enqueue_batch(specs(1))  # create the queue: its first start is not idle
        await client.drain(max_outcomes=0, through_retries=True)
        for spec in specs(tasks):
            sent = time.time()
            task_id = (await client.enqueue(spec)).task_id
            await client.drain(max_outcomes=0, through_retries=True)
            record = await client.show(task_id)
            assert record.finished_at is not None
            to_start.append((STARTS[task_id] - sent) * 1000)
            to_done.append((record.finished_at.timestamp() - sent) * 1000)
    return {
        "start_p50": percentile(to_start, 0.5),
        "start_p99": percentile(to_start, 0.99),
        "done_p50": percentile(to_done, 0.5),
        "done_p99": percentile(to_done, 0.99),
    }
