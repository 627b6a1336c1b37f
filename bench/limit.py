"""Figure 1, the limit: no-op activities executed by one bare workflow at concurrency C."""

from __future__ import annotations

import time
import uuid

from temporalio.worker import Worker

from bench.harness import Server
from bench.workloads import BareInput, BareWorkflow, noop


async def bare_activities_per_second(server: Server, activities: int, concurrency: int) -> float:
    task_queue = server.task_queue()
    async with Worker(
        server.client,
        task_queue=task_queue,
        workflows=[BareWorkflow],
        activities=[noop],
        max_concurrent_activities=max(100, concurrency * 2),
    ):
        started = time.perf_counter()
        done = await server.client.execute_workflow(
            BareWorkflow.run,
            BareInput(activities=activities, concurrency=concurrency),
            id=f"bench-bare-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        elapsed = time.perf_counter() - started
    assert done == activities
    return activities / elapsed
