"""The bare workload that defines the server's limit: no-op activities from one workflow."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow


class BareInput(BaseModel):
    activities: int
    concurrency: int


STARTS: list[float] = []
"""Wall-clock start times of the no-op activities (worker in this process)."""


@activity.defn(name="bench_noop")
async def noop(index: int) -> int:
    STARTS.append(time.time())
    return index


@workflow.defn
class BareWorkflow:
    """Runs ``activities`` no-op activities, at most ``concurrency`` at a time.

    ``concurrency`` loops each run one activity after another: as little workflow
    code per activity as a workflow can have.
    """

    @workflow.run
    async def run(self, params: BareInput) -> int:
        remaining = iter(range(params.activities))
        done = 0

        async def loop() -> None:
            nonlocal done
            for index in remaining:
                await workflow.execute_activity(
                    noop, index, start_to_close_timeout=timedelta(seconds=30)
                )
                done += 1

        await asyncio.gather(*(loop() for _ in range(params.concurrency)))
        return done
