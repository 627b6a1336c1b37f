"""A task far longer than the rest neither idles the other slots nor grows history: the
queue continues as new while it runs, and its outcome reaches the run that is current
when it ends (see taskrunner/queue/attempts.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import Client

from taskrunner.queue.models import TaskSpec
from taskrunner.tasks.registry import TaskType
from tests.helpers import assert_eventually
from tests.helpers.queue import (
    Ledger,
    QueueHarness,
    SamplePayload,
    assert_accounted,
    running_queue,
)

THRESHOLD = 300
SHORT_TASKS = 800
"""Short tasks run past the long ones: about ten runs' worth of history at THRESHOLD."""
EVENT_BOUND = THRESHOLD + 300
"""The most events a run may reach: the threshold, plus what arrives while a continue-as-new
waits (at most ~3 s) for attempts younger than DETACH_AFTER (README, Guarantees)."""


async def test_a_long_task_leaves_slots_busy_and_every_run_bounded(
    dev_client: Client, make_settings: Any
) -> None:
    settings = make_settings(queue={"history_threshold": THRESHOLD, "max_concurrency": 4})
    async with running_queue(dev_client, settings, _long) as h:
        long = await h.queue.enqueue(TaskSpec(type="long"))  # runs until released
        # This one heartbeats, also once the run that started it has ended (a heartbeat
        # found by no run may cancel the activity: the task must go on regardless).
        beating = await h.queue.enqueue(TaskSpec(type="beating"))
        await assert_eventually(lambda: _running(h, long.task_id))
        await assert_eventually(lambda: _running(h, beating.task_id))
        ids: list[str] = []
        for start in range(0, SHORT_TASKS, 100):
            batch = [TaskSpec(type="noop", payload={"n": n}) for n in range(start, start + 100)]
            ids += (await h.queue.enqueue_batch(batch)).task_ids
        await assert_eventually(lambda: _completed(h, SHORT_TASKS), timeout=120)
        stats = await h.queue.stats()
        assert stats.running == 2 and stats.run_number >= 4, stats
        assert h.ledger.running == 2, "both long tasks still run"
        h.ledger.release.set()
        await assert_eventually(lambda: _completed(h, SHORT_TASKS + 2), timeout=60)
        stats = await h.queue.stats()
        runs = [
            run.history_length
            async for run in dev_client.list_workflows(f'WorkflowId = "{h.queue.workflow_id}"')
        ]
    assert len(runs) == stats.run_number
    assert max(runs) <= EVENT_BOUND, runs
    assert all(h.ledger.executions[i] == 1 for i in [*ids, long.task_id, beating.task_id])
    assert h.ledger.completions[long.task_id] == h.ledger.completions[beating.task_id] == 1
    assert_accounted(stats)


def _long(ledger: Ledger) -> list[TaskType]:
    # ``sleepy`` with a timeout far beyond the test: its lease must not run out.
    return [TaskType("long", SamplePayload, lambda _: ledger.sleepy, timedelta(minutes=10))]


async def _running(h: QueueHarness, task_id: str) -> None:
    assert h.ledger.executions[task_id] == 1


async def _completed(h: QueueHarness, count: int) -> None:
    assert (await h.queue.stats()).completed == count
