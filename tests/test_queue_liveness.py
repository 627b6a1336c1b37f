"""The queue stays live: bounded state, drains that hold no update slot, nothing lost to a
cancel or a terminate, and commands re-sent across continue-as-new applied once."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio.client import Client

from taskrunner.errors import UserError
from taskrunner.queue.models import ProcessorInput, TaskSpec
from taskrunner.queue.processor import TaskProcessorWorkflow
from taskrunner.queue.workflow import TaskQueueWorkflow
from taskrunner.tasks.registry import TaskType
from tests.helpers import assert_eventually
from tests.helpers.queue import Ledger, QueueHarness, assert_accounted, running_queue

MAX_PAYLOAD = 128 * 1024


class Blob(BaseModel):
    text: str = ""


def _blob(ledger: Ledger) -> list[TaskType]:
    return [TaskType("blob", Blob, lambda _: ledger.noop, timedelta(seconds=30))]


def _max_size_blob() -> TaskSpec:
    # Random hex: as incompressible as JSON text gets, and exactly at the payload limit.
    text = os.urandom(MAX_PAYLOAD).hex()[: MAX_PAYLOAD - len('{"text":""}')]
    return TaskSpec(type="blob", payload={"text": text})


async def _grow_history(h: QueueHarness, runs: int) -> None:
    """Send cheap updates until the queue has continued as new ``runs`` more times."""
    target = (await h.queue.stats()).run_number + runs
    while (await h.queue.stats()).run_number < target:
        await h.queue.pause()


async def test_paused_queue_full_to_its_budget_continues_as_new_and_runs_each_task_once(
    dev_client: Client, make_settings: Any
) -> None:
    settings = make_settings(queue={"max_payload_bytes": MAX_PAYLOAD, "history_threshold": 100})
    async with running_queue(dev_client, settings, _blob) as h:
        await h.queue.create(paused=True)
        ids = []
        with pytest.raises(UserError) as refused:
            for _ in range(100):
                ids.append((await h.queue.enqueue(_max_size_blob())).task_id)
        message = str(refused.value)
        assert message.startswith(f"queue {h.queue.name!r} holds ") and "state budget" in message
        assert "\n" not in message and "shard the work" in message
        assert len(ids) >= 5, "the budget should hold a few maximum-size tasks"
        # The rejected task left nothing behind.
        assert (await h.queue.stats()).pending == len(ids)

        await _grow_history(h, runs=2)  # continue-as-new carries the full state, twice
        await h.queue.resume()
        drained = await h.queue.drain()
        stats = await h.queue.stats()
    assert drained.done and drained.completed == len(ids)
    assert stats.completed == len(ids) and stats.run_number >= 3
    assert all(h.ledger.executions[i] == 1 for i in ids)
    assert_accounted(stats)


async def test_a_fast_batch_producer_fills_the_queue_to_its_task_limit_not_a_false_budget(
    dev_client: Client, make_settings: Any
) -> None:
    # 10,000 small tasks in 500-task batches, as fast as the queue accepts them: the state
    # stays near 0.2 MB, and the budget's estimate must not refuse it (it did at 7,000).
    settings = make_settings()
    limit = settings.queue.max_active_tasks
    async with running_queue(dev_client, settings) as h:
        await h.queue.create(paused=True)
        specs = [TaskSpec(type="noop", payload={"n": n}) for n in range(limit)]
        ids = (await h.queue.enqueue_batch(specs)).task_ids
        # Full by count (max_active_tasks), not by the budget: the next one says so.
        with pytest.raises(UserError, match=rf"is full \({limit} pending or running"):
            await h.queue.enqueue(TaskSpec(type="noop", payload={"n": limit}))
        stats = await h.queue.stats()
    assert len(set(ids)) == limit and stats.pending == limit


async def test_waiting_drains_leave_room_for_enqueue_and_pause(
    dev_client: Client, make_settings: Any
) -> None:
    async with running_queue(dev_client, make_settings()) as h:
        await h.queue.enqueue(TaskSpec(type="sleepy"))  # runs until the test releases it
        await assert_eventually(lambda: _running(h, 1))
        drains = [asyncio.create_task(h.queue.drain()) for _ in range(10)]
        processor = asyncio.create_task(
            dev_client.execute_workflow(
                TaskProcessorWorkflow.run,
                ProcessorInput(queue=h.queue.name),
                id=f"processor-{h.queue.name}",
                task_queue=h.queue.settings.task_queue,
            )
        )
        await assert_eventually(lambda: _drains(h, 11))
        # Every drain still waits; producers and commands get through at once.
        enqueued = await asyncio.wait_for(h.queue.enqueue(TaskSpec(type="noop")), timeout=10)
        assert enqueued.created
        assert not any(d.done() for d in drains) and not processor.done()
        paused = await asyncio.wait_for(h.queue.pause(), timeout=10)
        assert "paused" in paused.message
        # A paused queue runs nothing more: every drain says so instead of waiting.
        results = await asyncio.gather(*drains)
        report = await processor
        assert all(r.paused and not r.done and r.waiting == 1 for r in results)
        assert report.result.paused
        await h.queue.resume()
        h.ledger.release.set()
        final = await h.queue.drain()
        stats = await h.queue.stats()
    assert final.done and stats.completed == 2 and stats.pending == 0


async def _running(h: QueueHarness, count: int) -> None:
    assert h.ledger.running == count


async def _drains(h: QueueHarness, count: int) -> None:
    assert (await h.queue.stats()).drains == count


async def test_future_tasks_hold_neither_the_processor_nor_a_drain(
    dev_client: Client, make_settings: Any
) -> None:
    # The dev server: the time-skipping one would jump to the task's run_at.
    settings = make_settings()
    async with running_queue(dev_client, settings) as h:
        later = datetime.now(UTC) + timedelta(days=3)
        await h.queue.enqueue(TaskSpec(type="noop", run_at=later))
        now = await h.queue.enqueue(TaskSpec(type="noop"))
        report = await dev_client.execute_workflow(
            TaskProcessorWorkflow.run,
            ProcessorInput(queue=h.queue.name),
            id=f"processor-{h.queue.name}",
            task_queue=settings.task_queue,
        )
        drained = await asyncio.wait_for(h.queue.drain(), timeout=30)
    assert report.result.done and report.result.scheduled == 1
    assert drained.done and drained.scheduled == 1 and drained.waiting == 0
    assert h.ledger.executions[now.task_id] == 1


async def test_cancelling_the_queue_pauses_it_and_keeps_every_task_and_key(
    dev_client: Client, make_settings: Any
) -> None:
    # The dev server: the time-skipping one fails a continue-as-new that follows a cancel
    # request with an internal error of its own.
    async with running_queue(dev_client, make_settings()) as h:
        await h.queue.create(paused=True)
        ids = (await h.queue.enqueue_batch(_keyed(5))).task_ids
        await h.queue.handle.cancel()  # the web UI's "Request Cancellation"
        await assert_eventually(lambda: _run_number(h, 2))
        stats = await h.queue.stats()
        assert stats.pending == 5 and stats.paused
        again = await h.queue.enqueue_batch(_keyed(5))
        assert again.created == 0 and again.task_ids == ids
        await h.queue.resume()
        await h.queue.drain()
    assert all(h.ledger.executions[i] == 1 for i in ids)


async def test_a_terminated_queue_is_refused_until_recovered_with_its_tasks_and_keys(
    client: Client, make_settings: Any
) -> None:
    async with running_queue(client, make_settings()) as h:
        await h.queue.create(paused=True)
        ids = (await h.queue.enqueue_batch(_keyed(5))).task_ids
        await h.queue.handle.terminate("operator error")
        with pytest.raises(UserError, match="taskrunner queue recover"):
            await h.queue.enqueue(TaskSpec(type="noop", key="key-0"))
        stats = await h.queue.recover()
        assert stats.pending == 5 and stats.paused and stats.enqueued == 5
        with pytest.raises(UserError, match="is running; nothing to recover"):
            await h.queue.recover()
        # The way out for a stuck queue (say, its workflow task keeps failing): terminate
        # and recover in one step.
        stats = await h.queue.recover(force=True)
        assert stats.pending == 5 and stats.run_number == 3
        again = await h.queue.enqueue_batch(_keyed(5))
        assert again.created == 0 and again.task_ids == ids
        await h.queue.resume()
        await h.queue.drain()
    assert all(h.ledger.executions[i] == 1 for i in ids)


def _keyed(count: int) -> list[TaskSpec]:
    return [TaskSpec(type="noop", key=f"key-{i}") for i in range(count)]


async def _run_number(h: QueueHarness, number: int) -> None:
    assert (await h.queue.stats()).run_number >= number


async def test_commands_re_sent_across_continue_as_new_are_applied_once(
    client: Client, make_settings: Any
) -> None:
    settings = make_settings(queue={"history_threshold": 100})
    async with running_queue(client, settings) as h:
        failed = (await h.queue.enqueue_batch([TaskSpec(type="hopeless")] * 2)).task_ids
        await h.queue.drain()
        handle = h.queue.handle

        async def send(update: Any, update_id: str) -> Any:
            return await handle.execute_update(update, id=update_id)

        retried = await send(TaskQueueWorkflow.retry_all, "retry-all-1")
        await h.queue.drain()  # both fail again
        paused = await send(TaskQueueWorkflow.pause, "pause-1")
        resumed = await send(TaskQueueWorkflow.resume, "resume-1")
        await _grow_history(h, runs=1)  # leaves the queue paused
        # The same updates again, in a later run: the first answers, and no effect.
        assert await send(TaskQueueWorkflow.resume, "resume-1") == resumed
        assert (await h.queue.stats()).paused
        await h.queue.resume()
        assert await send(TaskQueueWorkflow.retry_all, "retry-all-1") == retried
        assert await send(TaskQueueWorkflow.pause, "pause-1") == paused
        stats = await h.queue.stats()
        assert not stats.paused and stats.failed == 2
        purged = await send(TaskQueueWorkflow.purge, "purge-1")
        await h.queue.enqueue_batch([TaskSpec(type="hopeless")])
        await h.queue.drain()
        await _grow_history(h, runs=1)
        assert await send(TaskQueueWorkflow.purge, "purge-1") == purged
        stats = await h.queue.stats()
    assert sorted(retried.task_ids) == sorted(failed) == sorted(purged.task_ids)
    assert all(h.ledger.executions[i] == 2 for i in failed)
    assert stats.failed == 1 and stats.purged == 2
