"""Activities that talk to a task queue workflow (workflows cannot send updates)."""

from __future__ import annotations

import asyncio
import contextlib

from temporalio import activity
from temporalio.client import Client

from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import (
    DrainInput,
    DrainReport,
    DrainResult,
)
from taskrunner.settings import Settings

HEARTBEAT_EVERY = 5.0
"""Seconds between heartbeats while a drain waits (well inside the heartbeat timeout)."""


class QueueActivities:
    """Built by the worker with its client: activities never create clients."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self._client = client
        self._settings = settings

    @activity.defn(name="drain_queue")
    async def drain_queue(self, params: DrainInput) -> DrainReport:
        """Drain the queue and return how each drained task ended plus the stats."""
        queue = QueueClient(self._client, self._settings, params.queue)
        if not await queue.exists():
            return DrainReport(
                queue=queue.name, result=DrainResult(up_to_seq=0, done=True), stats=None
            )
        if params.resume:
            await queue.resume()
        drain = asyncio.create_task(queue.drain(params.max_outcomes))
        try:
            while not drain.done():
                activity.heartbeat()
                await asyncio.wait({drain}, timeout=HEARTBEAT_EVERY)
            result = drain.result()
        finally:
            if not drain.done():
                drain.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await drain
        return DrainReport(queue=queue.name, result=result, stats=await queue.stats())
