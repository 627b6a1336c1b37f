"""The queue on the dev server (real limits): many producers at once."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import Client

from taskrunner.queue.models import TaskSpec
from tests.helpers.queue import assert_accounted, running_queue

PRODUCERS = 150


async def test_concurrent_producers_racing_continue_as_new_create_each_task_once(
    dev_client: Client, make_settings: Any
) -> None:
    # The dev server allows 10 in-flight updates per workflow (the client backs off),
    # and an update racing a continue-as-new is re-sent to the next run by the SDK:
    # the queue must answer it from memory instead of creating the tasks again.
    settings = make_settings(queue={"history_threshold": 300})
    async with running_queue(dev_client, settings) as h:
        await h.queue.enqueue(TaskSpec(type="noop"))
        results = await asyncio.gather(
            *(h.queue.enqueue(TaskSpec(type="noop", payload={"n": i})) for i in range(PRODUCERS))
        )
        ids = {r.task_id for r in results}
        assert len(ids) == PRODUCERS
        await h.queue.drain(through_retries=True)
        stats = await h.queue.stats()
        assert stats.completed == stats.enqueued == PRODUCERS + 1
        assert stats.run_number > 1
        assert all(h.ledger.executions[i] == 1 for i in ids)
        assert_accounted(stats)
