"""Periodic jobs on the dev server: each fire enqueues exactly one task, and overlap "skip"
holds fires while the previous task is pending or running."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import (
    Client,
    ScheduleBackfill,
    ScheduleOverlapPolicy,
    WorkflowFailureError,
)

from taskrunner.jobs import operations as job_ops
from taskrunner.jobs.keys import utc_text
from taskrunner.jobs.models import JobFireResult
from taskrunner.queue.models import TaskStatus
from taskrunner.schedules import operations as schedule_ops
from tests.helpers import assert_eventually
from tests.helpers.jobs import fire_runs, job_settings_factory, job_tasks, ledger_registry
from tests.helpers.queue import QueueHarness, running_queue

FAR_AWAY = "0 0 1 1 *"
"""A cron that does not fire during a test: its fires come from triggers."""


@pytest.fixture
async def harness(dev_client: Client, settings: Any) -> AsyncIterator[QueueHarness]:
    """The runner's worker (with the ledger's task types) and a fresh queue, on the dev server."""
    async with running_queue(dev_client, settings) as h:
        yield h


@pytest.fixture
def jobs(make_settings: Any, harness: QueueHarness) -> Any:
    return job_settings_factory(make_settings, harness.queue.name)


async def applied(client: Client, settings: Any) -> None:
    await schedule_ops.apply_schedules(client, settings, ledger_registry())


async def test_a_job_every_minute_enqueues_one_task_per_fire_even_when_a_fire_is_started_again(
    dev_client: Client, jobs: Any, harness: QueueHarness
) -> None:
    settings = jobs({"name": "minutely", "task": "noop", "cron": ["* * * * *"]})
    await applied(dev_client, settings)
    sid = f"{settings.schedules.id_prefix}job-minutely"
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    fires = [minute + timedelta(minutes=i) for i in range(1, 5)]
    backfill = ScheduleBackfill(
        start_at=fires[0] - timedelta(seconds=1),
        end_at=fires[-1] + timedelta(seconds=1),
        overlap=ScheduleOverlapPolicy.ALLOW_ALL,
    )
    handle = dev_client.get_schedule_handle(sid)
    await handle.backfill(backfill)
    await fire_runs(dev_client, sid, len(fires))
    # The same fire times once more: every start of a fire that already ran (as when the
    # schedule's start is retried) finds its task by key and enqueues nothing.
    await handle.backfill(backfill)
    runs = await fire_runs(dev_client, sid, 2 * len(fires))

    prefix = f"job:{settings.schedules.id_prefix}minutely@"
    # The schedule runs live too: a minute that turns during the test fires once more, with
    # a task of its own. Only the backfilled fires are checked.
    backfilled = {utc_text(f) for f in fires}
    runs = [r for r in runs if r.id.rsplit("/run-", 1)[-1] in backfilled]
    tasks = [
        t
        for t in await job_tasks(harness.queue, prefix)
        if str(t.spec.key)[len(prefix) :] in backfilled
    ]
    # One task per fire; backfilled fires run at once, so they enqueue in any order.
    assert sorted(str(t.spec.key) for t in tasks) == [prefix + utc_text(f) for f in fires]
    # Both starts of a fire have the same workflow id (the schedule's, by fire time).
    assert len({r.id for r in runs}) == len(fires)
    results = [
        await dev_client.get_workflow_handle(
            r.id, run_id=r.run_id, result_type=JobFireResult
        ).result()
        for r in runs
    ]
    assert sorted(r.created for r in results) == [False] * len(fires) + [True] * len(fires)
    assert {r.task_id for r in results} == {t.id for t in tasks}
    assert all(r.status == TaskStatus.COMPLETED for r in results)


async def test_live_fires_each_enqueue_one_task(
    dev_client: Client, jobs: Any, harness: QueueHarness
) -> None:
    settings = jobs({"name": "often", "task": "noop", "every": "2s"})
    await applied(dev_client, settings)
    sid = f"{settings.schedules.id_prefix}job-often"
    await fire_runs(dev_client, sid, 3)
    await dev_client.get_schedule_handle(sid).pause()

    async def one_task_per_run() -> list[Any]:
        runs = await fire_runs(dev_client, sid, 3)
        tasks = await job_tasks(harness.queue, f"job:{settings.schedules.id_prefix}often@")
        assert len(tasks) == len(runs), (len(tasks), len(runs))
        return tasks

    tasks = await assert_eventually(one_task_per_run, timeout=30, interval=1)
    assert len({t.spec.key for t in tasks}) == len(tasks)
    assert all(t.spec.key and t.spec.key.endswith(("0Z", "2Z", "4Z", "6Z", "8Z")) for t in tasks)


async def test_skip_enqueues_nothing_while_the_previous_task_is_pending(
    dev_client: Client, jobs: Any, harness: QueueHarness
) -> None:
    settings = jobs({"name": "held", "task": "noop", "cron": [FAR_AWAY]})
    await applied(dev_client, settings)
    await harness.queue.create(paused=True)
    prefix = f"job:{settings.schedules.id_prefix}held@"

    first = await job_ops.trigger_job(dev_client, settings, "held")
    assert first.workflow_id is not None
    await assert_eventually(lambda: _count(harness, prefix, 1), timeout=30)
    await asyncio.sleep(1.1)  # a trigger's fire time is whole seconds: another second
    second = await job_ops.trigger_job(dev_client, settings, "held")
    assert second.skipped, second
    assert len(await job_tasks(harness.queue, prefix)) == 1

    await harness.queue.resume()  # the task runs; its fire's run ends; the next fire counts
    fire = dev_client.get_workflow_handle(first.workflow_id, result_type=JobFireResult)
    assert (await fire.result()).status == TaskStatus.COMPLETED
    third = await job_ops.trigger_job(dev_client, settings, "held")
    assert third.workflow_id is not None and not third.skipped
    await assert_eventually(lambda: _count(harness, prefix, 2), timeout=30)


async def test_allow_enqueues_a_task_per_fire_while_the_previous_is_pending(
    dev_client: Client, jobs: Any, harness: QueueHarness
) -> None:
    settings = jobs({"name": "stacked", "task": "noop", "cron": [FAR_AWAY], "overlap": "allow"})
    await applied(dev_client, settings)
    await harness.queue.create(paused=True)
    prefix = f"job:{settings.schedules.id_prefix}stacked@"
    for expected in (1, 2):
        started = await job_ops.trigger_job(dev_client, settings, "stacked")
        assert started.workflow_id is not None and not started.skipped

        async def counted(n: int = expected) -> None:
            await _count(harness, prefix, n)

        await assert_eventually(counted, timeout=30)
        await asyncio.sleep(1.1)
    tasks = await job_tasks(harness.queue, prefix)
    assert {t.status for t in tasks} == {TaskStatus.PENDING}


async def test_a_refused_enqueue_fails_the_fire_and_sends_an_error(
    dev_client: Client, jobs: Any, harness: QueueHarness, settings: Any
) -> None:
    job = {"name": "stopped", "task": "noop", "cron": [FAR_AWAY], "overlap": "allow"}
    await applied(dev_client, jobs(job))
    await harness.queue.create()
    await harness.queue.handle.terminate("test: a stopped queue")
    started = await job_ops.trigger_job(dev_client, jobs(job), "stopped")
    assert started.workflow_id is not None
    with pytest.raises(WorkflowFailureError):
        await dev_client.get_workflow_handle(started.workflow_id).result()
    log = settings.data_dir / "notifications.jsonl"

    async def sent() -> None:
        lines = log.read_text().splitlines() if log.exists() else []
        said = [json.loads(line) for line in lines]
        assert any(
            n["priority"] == "error"
            and n["message"].startswith("Job stopped could not enqueue its task: job stopped: ")
            and "was stopped" in n["message"]
            for n in said
        ), said

    await assert_eventually(sent, timeout=30)


async def test_pause_and_resume_show_in_the_job_and_survive_apply(
    dev_client: Client, jobs: Any
) -> None:
    settings = jobs({"name": "pausable", "task": "noop", "every": "1h"})
    await applied(dev_client, settings)
    await job_ops.pause_job(dev_client, settings, "pausable", "disk swap")
    view = await job_ops.view_job(dev_client, settings, "pausable")
    assert view.paused and view.note == "disk swap"
    changed = jobs({"name": "pausable", "task": "noop", "every": "2h"})
    await applied(dev_client, changed)
    assert (await job_ops.view_job(dev_client, changed, "pausable")).paused
    await job_ops.resume_job(dev_client, changed, "pausable", None)
    view = await job_ops.view_job(dev_client, changed, "pausable")
    assert not view.paused and view.spec == ["every 2h"]


async def _count(harness: QueueHarness, prefix: str, expected: int) -> None:
    tasks = await job_tasks(harness.queue, prefix)
    assert len(tasks) == expected, [(t.spec.key, t.status) for t in tasks]
