"""Figure 1, the limit: no-op activities executed by one bare workflow at concurrency C.

It runs on the runner's real worker (same sandbox, slots and converter as the queue)
and is timed like the queue: from the first activity start to the workflow's end.
"""

from __future__ import annotations

import time
import uuid

from bench.harness import Server
from bench.queue_setup import queue_worker
from bench.workloads import STARTS, BareInput, BareWorkflow, noop


async def bare_activities_per_second(server: Server, activities: int, concurrency: int) -> float:
    STARTS.clear()
    async with queue_worker(
        server, extra_activities=[noop], extra_workflows=[BareWorkflow]
    ) as settings:
        done = await server.client.execute_workflow(
            BareWorkflow.run,
            BareInput(activities=activities, concurrency=concurrency),
            id=f"bench-bare-{uuid.uuid4().hex[:8]}",
            task_queue=settings.task_queue,
        )
        ended = time.time()
    assert done == activities
    return activities / (ended - min(STARTS))
