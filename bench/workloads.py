"""The bare workload that defines the server's limit: no-op activities from one workflow."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity, workflow


class BareInput(BaseModel):
    activities: int
    concurrency: int


@activity.defn(name="bench_noop")
async def noop(index: int) -> int:
    return index


@workflow.defn
class BareWorkflow:
    """Runs ``activities`` no-op activities, at most ``concurrency`` at a time."""

    @workflow.run
    async def run(self, params: BareInput) -> int:
        pending: set[asyncio.Future[int]] = set()
        done = started = 0
        while done < params.activities:
            while started < params.activities and len(pending) < params.concurrency:
                pending.add(
                    workflow.start_activity(
                        noop, started, start_to_close_timeout=timedelta(seconds=30)
                    )
                )
                started += 1
            finished, still = await workflow.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            pending = set(still)
            done += len(finished)
        return done
