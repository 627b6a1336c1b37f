"""Processing: retries and failure, order, delays, concurrency, commands, the processor."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from taskrunner.errors import UserError
from taskrunner.queue.models import (
    ProcessorInput,
    TaskSpec,
    TaskStatus,
)
from taskrunner.queue.processor import TaskProcessorWorkflow
from tests.helpers import assert_eventually, wait_for_output
from tests.helpers.queue import (
    QueueHarness,
    assert_accounted,
    running_queue,
)

T_NEVER = datetime.max.replace(tzinfo=UTC)


async def test_failing_task_is_tried_three_times_then_fails_and_alerts(
    queue: QueueHarness, capsys: Any
) -> None:
    task = await queue.queue.enqueue(TaskSpec(type="always_fails"))
    drained = await queue.queue.drain(through_retries=True)
    assert drained.failed == 1 and drained.completed == 0
    assert queue.ledger.executions[task.task_id] == 3
    record = await queue.queue.show(task.task_id)
    assert record.status == TaskStatus.FAILED
    assert record.attempts == 3
    assert record.last_error == "DiskOnFire: the disk is on fire"
    assert [t.id for t in await queue.queue.list(TaskStatus.FAILED)] == [task.task_id]
    await wait_for_output(
        capsys,
        f"📧 [ERROR] Task {task.task_id} failed after 3 attempts: DiskOnFire: the disk is on fire",
    )
    assert_accounted(await queue.queue.stats())

    # The cause is fixed: a retry completes it, with a fresh round of attempts.
    queue.ledger.broken = False
    await queue.queue.retry(task.task_id)
    # (The retried task may finish before the drain begins: a drain counts what finishes
    # while it runs, so the record tells how the task ended.)
    assert (await queue.queue.drain(through_retries=True)).done
    record = await queue.queue.show(task.task_id)
    assert record.status == TaskStatus.COMPLETED and record.attempts == 4
    assert record.result is not None and record.result.summary == f"done {task.task_id}"
    assert record.last_error is None
    stats = await queue.queue.stats()
    assert stats.completed == 1 and stats.failed == 0
    assert_accounted(stats)


async def test_flaky_task_succeeds_on_its_second_attempt(queue: QueueHarness) -> None:
    task = await queue.queue.enqueue(TaskSpec(type="flaky"))
    drained = await queue.queue.drain(through_retries=True)
    assert drained.completed == 1
    assert drained.outcomes[0].attempts == 2
    assert queue.ledger.executions[task.task_id] == 2
    assert queue.ledger.completions[task.task_id] == 1


async def test_retry_all_and_purge_failed(queue: QueueHarness) -> None:
    ids = (
        await queue.queue.enqueue_batch(
            [TaskSpec(type="always_fails", key=f"k{i}") for i in range(3)]
        )
    ).task_ids
    await queue.queue.drain(through_retries=True)
    assert (await queue.queue.stats()).failed == 3
    with pytest.raises(
        UserError, match=r"^task .* is failed; only pending tasks can be cancelled$"
    ):
        await queue.queue.cancel(ids[0])
    retried = await queue.queue.retry_all()
    assert sorted(retried.task_ids) == sorted(ids)
    await queue.queue.drain(through_retries=True)
    purged = await queue.queue.purge()
    assert sorted(purged.task_ids) == sorted(ids)
    stats = await queue.queue.stats()
    assert stats.failed == 0 and stats.purged == 3 and stats.total == 0
    assert_accounted(stats)
    # A purged task's key may be used again.
    assert (await queue.queue.enqueue(TaskSpec(type="noop", key="k0"))).created
    await queue.queue.drain(through_retries=True)


async def test_unknown_task_id_gives_a_clear_error(queue: QueueHarness) -> None:
    await queue.queue.enqueue(TaskSpec(type="noop"))
    for command in (queue.queue.cancel, queue.queue.retry):
        with pytest.raises(UserError) as err:
            await command("nosuchtask")
        assert str(err.value) == f"unknown task id 'nosuchtask' in queue '{queue.queue.name}'"
    with pytest.raises(UserError, match="unknown task id 'nosuchtask'"):
        await queue.queue.show("nosuchtask")
    assert_accounted(await queue.queue.stats())


async def test_tasks_run_by_priority_then_age(client: Client, make_settings: Any) -> None:
    settings = make_settings(queue={"max_concurrency": 1})
    async with running_queue(client, settings) as h:
        await h.queue.enqueue(TaskSpec(type="noop"))  # creates the queue
        await h.queue.drain(through_retries=True)
        await h.queue.pause()
        specs = [
            TaskSpec(type="noop", payload={"n": 1}, priority=0),
            TaskSpec(type="noop", payload={"n": 2}, priority=5),
            TaskSpec(type="noop", payload={"n": 3}, priority=0),
            TaskSpec(type="noop", payload={"n": 4}, priority=9),
            TaskSpec(type="noop", payload={"n": 5}, priority=5),
        ]
        ids = (await h.queue.enqueue_batch(specs)).task_ids
        pending = await h.queue.list(TaskStatus.PENDING)
        expected = [ids[3], ids[1], ids[4], ids[0], ids[2]]
        assert [t.id for t in pending] == expected
        assert (await h.queue.drain(through_retries=True)).paused
        assert h.ledger.started[1:] == []
        await h.queue.resume()
        await h.queue.drain(through_retries=True)
        assert h.ledger.started[1:] == expected
        assert_accounted(await h.queue.stats())


async def test_max_concurrency_is_never_exceeded(client: Client, make_settings: Any) -> None:
    settings = make_settings(queue={"max_concurrency": 3})
    async with running_queue(client, settings) as h:
        specs = [TaskSpec(type="sleepy", payload={"n": i, "sleep_ms": 30}) for i in range(12)]
        await h.queue.enqueue_batch(specs)
        drained = await h.queue.drain(through_retries=True)
        assert drained.completed == 12
        assert h.ledger.max_running == 3
        stats = await h.queue.stats()
        assert stats.by_type["sleepy"].completed == 12
        assert_accounted(stats)


async def test_run_at_waits_on_a_durable_timer(
    queue: QueueHarness, env: WorkflowEnvironment
) -> None:
    now = await env.get_current_time()
    later = await queue.queue.enqueue(TaskSpec(type="noop", run_at=now + timedelta(hours=2)))
    latest = await queue.queue.enqueue(TaskSpec(type="noop", run_at=now + timedelta(hours=5)))
    soon = await queue.queue.enqueue(TaskSpec(type="noop"))
    await assert_eventually(lambda: _completed(queue, soon.task_id))
    assert (await queue.queue.show(later.task_id)).status == TaskStatus.PENDING
    assert later.task_id not in queue.ledger.executions
    await env.sleep(timedelta(hours=2, minutes=1))
    await assert_eventually(lambda: _completed(queue, later.task_id))
    record = await queue.queue.show(later.task_id)
    assert record.started_at is not None and record.started_at >= now + timedelta(hours=2)
    assert (await queue.queue.show(latest.task_id)).status == TaskStatus.PENDING
    # The next delayed task gets its own timer once the first one has fired.
    await env.sleep(timedelta(hours=3))
    await assert_eventually(lambda: _completed(queue, latest.task_id))
    assert_accounted(await queue.queue.stats())


async def _completed(h: QueueHarness, task_id: str) -> None:
    assert (await h.queue.show(task_id)).status == TaskStatus.COMPLETED


async def test_pause_holds_tasks_and_resume_runs_them(queue: QueueHarness) -> None:
    await queue.queue.enqueue(TaskSpec(type="noop"))
    await queue.queue.pause()
    held = await queue.queue.enqueue(TaskSpec(type="noop"))
    stats = await queue.queue.stats()
    assert stats.paused and stats.pending >= 1
    drained = await queue.queue.drain(through_retries=True)
    assert drained.paused and not drained.done
    assert held.task_id not in queue.ledger.executions
    await queue.queue.resume()
    drained = await queue.queue.drain(through_retries=True)
    assert drained.done
    assert queue.ledger.executions[held.task_id] == 1
    assert_accounted(await queue.queue.stats())


async def test_cancelled_task_never_runs(queue: QueueHarness) -> None:
    await queue.queue.enqueue(TaskSpec(type="noop"))
    await queue.queue.pause()
    keep = await queue.queue.enqueue(TaskSpec(type="noop", payload={"n": 1}))
    drop = await queue.queue.enqueue(TaskSpec(type="noop", payload={"n": 2}))
    result = await queue.queue.cancel(drop.task_id)
    assert result.task_ids == [drop.task_id]
    await queue.queue.resume()
    await queue.queue.drain(through_retries=True)
    assert drop.task_id not in queue.ledger.executions
    assert queue.ledger.executions[keep.task_id] == 1
    assert (await queue.queue.show(drop.task_id)).status == TaskStatus.CANCELLED
    with pytest.raises(UserError, match="is cancelled; only pending tasks can be cancelled"):
        await queue.queue.cancel(drop.task_id)
    stats = await queue.queue.stats()
    assert stats.cancelled == 1 and stats.completed == 2
    assert_accounted(stats)


async def test_drain_waits_for_pending_work_and_reports_each_task(queue: QueueHarness) -> None:
    ids = (
        await queue.queue.enqueue_batch(
            [TaskSpec(type="sleepy", payload={"n": i}) for i in range(3)]
        )
    ).task_ids
    drain = asyncio.create_task(queue.queue.drain(through_retries=True))
    await assert_eventually(lambda: _running(queue, 3))
    assert not drain.done()
    queue.ledger.release.set()
    result = await drain
    assert result.done and result.completed == 3
    assert sorted(o.task_id for o in result.outcomes) == sorted(ids)
    assert {o.summary for o in result.outcomes} == {f"done {i}" for i in ids}
    assert_accounted(await queue.queue.stats())


async def _running(h: QueueHarness, count: int) -> None:
    assert (await h.queue.stats()).running == count


async def test_processor_drains_reports_and_warns_on_failures(
    client: Client, make_settings: Any, capsys: Any
) -> None:
    # One slot: the failing task waits behind a task the test releases once the
    # processor's drain is waiting, so both belong to that drain.
    settings = make_settings(queue={"max_concurrency": 1})
    async with running_queue(client, settings) as h:
        ok = await h.queue.enqueue(TaskSpec(type="sleepy", priority=1))
        bad = await h.queue.enqueue(TaskSpec(type="hopeless"))
        processor = asyncio.create_task(
            client.execute_workflow(
                TaskProcessorWorkflow.run,
                ProcessorInput(queue=h.queue.name),
                id=f"processor-{h.queue.name}",
                task_queue=settings.task_queue,
            )
        )
        await assert_eventually(lambda: _draining(h))
        h.ledger.release.set()
        summary = await processor
    assert summary.processed == 2
    assert (summary.result.completed, summary.result.failed) == (1, 1)
    assert {o.task_id: o.status for o in summary.result.outcomes} == {
        ok.task_id: TaskStatus.COMPLETED,
        bad.task_id: TaskStatus.FAILED,
    }
    assert summary.stats is not None and summary.stats.summary_line() == (
        "{ total: 2, pending: 0, completed: 1, failed: 1 }"
    )
    out = capsys.readouterr().out
    assert "📧 [WARNING] Task processing complete: 1 succeeded, 1 failed" in out


async def _draining(h: QueueHarness) -> None:
    assert (await h.queue.stats()).drains == 1
    assert h.ledger.running == 1


async def test_processor_on_a_queue_that_does_not_exist_does_nothing(
    client: Client, make_settings: Any, make_worker: Any, task_queue: str
) -> None:
    # No queue named in the input: the worker's settings name it.
    settings = make_settings(queue={"name": f"never-created-{task_queue}"})
    async with make_worker(client, settings):
        summary = await client.execute_workflow(
            TaskProcessorWorkflow.run,
            ProcessorInput(),
            id=f"processor-{task_queue}",
            task_queue=settings.task_queue,
        )
    assert summary.queue == settings.queue.name
    assert summary.processed == 0 and summary.stats is None


async def test_start_interval_spaces_task_starts_with_a_durable_timer(
    client: Client, make_settings: Any
) -> None:
    settings = make_settings(queue={"start_interval_ms": 300})
    async with running_queue(client, settings) as h:
        ids = (await h.queue.enqueue_batch([TaskSpec(type="noop") for _ in range(3)])).task_ids
        await h.queue.drain(through_retries=True)
        starts = sorted([(await h.queue.show(i)).started_at or T_NEVER for i in ids])
        gaps = [b - a for a, b in itertools.pairwise(starts)]
        assert all(gap >= timedelta(milliseconds=300) for gap in gaps), gaps
