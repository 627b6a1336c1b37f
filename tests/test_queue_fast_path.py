"""The fast path: bundled task types run several tasks per activity call, with every
guarantee of the remote path (attempt counts, the failed list and retry, idempotency
keys, continue-as-new with calls in flight).

On the dev server: a busy queue on the time-skipping server can leave a query
unanswered, which locks that server's clock for every later test (see
test_queue_continue_as_new.py); these tests need no skipped time."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from taskrunner.queue import bundles
from taskrunner.queue.models import TaskSpec, TaskStatus
from taskrunner.tasks.registry import TaskActivityInput, TaskResult, TaskType
from tests.helpers.queue import Ledger, running_queue

BUNDLE = 5


class Calls:
    """Which call ran each task: its activity id and type."""

    def __init__(self) -> None:
        self.by_task: dict[str, tuple[str, str]] = {}

    @activity.defn(name="test_odd_fails")
    async def odd_fails(self, params: TaskActivityInput) -> TaskResult:
        info = activity.info()
        self.by_task[params.task_id] = (info.activity_id, info.activity_type)
        if params.payload["n"] % 2:
            raise ApplicationError(f"odd {params.payload['n']}", type="Odd", non_retryable=True)
        return TaskResult(summary=f"even {params.payload['n']}")


def fast(ledger: Ledger, calls: Calls) -> list[TaskType]:
    """Bundled twins of the ledger's task types, and one whose odd tasks fail."""
    by_name = {t.name: t for t in ledger.task_types()}
    twins = [
        replace(by_name[name], name=f"fast_{name}", bundle=BUNDLE)
        for name in ("noop", "flaky", "doomed", "hopeless")
    ]
    odd = replace(by_name["hopeless"], name="fast_odd", activity=lambda _: calls.odd_fails)
    return [*twins, replace(odd, bundle=BUNDLE)]


def history_kinds(events: Any) -> Counter[str]:
    return Counter(str(e.WhichOneof("attributes")) for e in events)


async def test_bundled_tasks_share_calls_and_keep_their_own_outcomes(
    dev_client: Any, make_settings: Any
) -> None:
    calls = Calls()
    settings = make_settings(queue={"max_concurrency": 10})
    async with running_queue(dev_client, settings, lambda ledger: fast(ledger, calls)) as h:
        specs = [TaskSpec(type="fast_odd", payload={"n": n}) for n in range(20)]
        ids = (await h.queue.enqueue_batch(specs)).task_ids
        await h.queue.drain()
        history = [e async for e in h.queue.handle.fetch_history_events()]
        records = {r.id: r for r in await h.queue.list(limit=50)}
    # Each task its own outcome, though they shared calls: odd ones failed, at once.
    for task_id, n in zip(ids, range(20), strict=True):
        record = records[task_id]
        assert record.attempts == 1
        assert record.status == (TaskStatus.FAILED if n % 2 else TaskStatus.COMPLETED)
    assert {kind for _, kind in calls.by_task.values()} == {"run_task_bundle"}
    per_call = Counter(call for call, _ in calls.by_task.values())
    assert max(per_call.values()) == BUNDLE and len(per_call) == 20 // BUNDLE
    scheduled = {
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    assert "test_odd_fails" not in scheduled  # no activity task of its own: all in bundles
    assert history_kinds(history)["activity_task_scheduled_event_attributes"] < 20


async def test_attempts_failed_list_and_retry_on_the_fast_path(
    dev_client: Any, settings: Any
) -> None:
    async with running_queue(dev_client, settings, lambda ledger: fast(ledger, Calls())) as h:
        flaky = await h.queue.enqueue(TaskSpec(type="fast_flaky"))
        doomed = await h.queue.enqueue(TaskSpec(type="fast_doomed"))
        hopeless = await h.queue.enqueue(TaskSpec(type="fast_hopeless"))
        await h.queue.drain(through_retries=True)
        assert (await h.queue.show(flaky.task_id)).attempts == 2
        for task, attempts in ((doomed, 3), (hopeless, 1)):
            record = await h.queue.show(task.task_id)
            assert (record.status, record.attempts) == (TaskStatus.FAILED, attempts)
            assert record.last_error == "DiskOnFire: the disk is on fire"
        failed = await h.queue.list(status=TaskStatus.FAILED)
        assert {r.id for r in failed} == {doomed.task_id, hopeless.task_id}
        assert h.ledger.executions[doomed.task_id] == 3

        h.ledger.broken = False  # the cause is fixed: a retry completes
        await h.queue.retry(doomed.task_id)
        await h.queue.drain(through_retries=True)
        record = await h.queue.show(doomed.task_id)
        assert (record.status, record.attempts) == (TaskStatus.COMPLETED, 4)
        assert h.ledger.completions[doomed.task_id] == 1


async def test_idempotency_keys_hold_on_the_fast_path(dev_client: Any, settings: Any) -> None:
    async with running_queue(dev_client, settings, lambda ledger: fast(ledger, Calls())) as h:
        first = await h.queue.enqueue(TaskSpec(type="fast_noop", key="nightly-1"))
        again = await h.queue.enqueue(TaskSpec(type="fast_noop", key="nightly-1"))
        await h.queue.drain()
        after = await h.queue.enqueue(TaskSpec(type="fast_noop", key="nightly-1"))
    assert first.task_id == again.task_id == after.task_id
    assert h.ledger.executions[first.task_id] == 1


async def test_continue_as_new_waits_for_calls_in_flight(
    dev_client: Any, make_settings: Any
) -> None:
    settings = make_settings(queue={"max_concurrency": 20, "history_threshold": 100})
    async with running_queue(dev_client, settings, lambda ledger: fast(ledger, Calls())) as h:
        specs = [TaskSpec(type="fast_noop", payload={"n": n}) for n in range(1000)]
        ids = (await h.queue.enqueue_batch(specs)).task_ids
        await h.queue.drain()
        stats = await h.queue.stats()
    assert stats.run_number > 1, "the queue never continued as new"
    assert stats.completed == 1000 and stats.running == stats.pending == 0
    assert all(h.ledger.executions[task_id] == 1 for task_id in ids)


class Stalls:
    """A bundled type whose task with ``sleep_ms`` set blocks its worker's event loop that
    long (no heartbeat can leave) on its first attempt, after the others have finished."""

    def __init__(self) -> None:
        self.executions: Counter[str] = Counter()

    @activity.defn(name="test_stalls")
    async def stalls(self, params: TaskActivityInput) -> TaskResult:
        self.executions[params.task_id] += 1
        if params.payload.get("sleep_ms") and params.attempt_offset == 0:
            await asyncio.sleep(1.0)  # the call heartbeats the others' outcomes meanwhile
            time.sleep(params.payload["sleep_ms"] / 1000)  # a worker that hangs, like a lost one
        return TaskResult(summary="ok")


def sleepy_fast(ledger: Ledger, **changes: Any) -> list[TaskType]:
    sleepy = next(t for t in ledger.task_types() if t.name == "sleepy")
    return [replace(sleepy, name="fast_sleepy", **changes)]


def calls_in(history: list[Any]) -> int:
    """Bundled calls the queue scheduled (a failed task's notification is another activity)."""
    return sum(
        e.activity_task_scheduled_event_attributes.activity_type.name == bundles.RUN_BUNDLE
        for e in history
        if e.HasField("activity_task_scheduled_event_attributes")
    )


async def test_a_call_carries_more_tasks_than_free_slots_and_runs_only_so_many_at_once(
    dev_client: Any, make_settings: Any
) -> None:
    settings = make_settings(queue={"max_concurrency": 3})
    async with running_queue(dev_client, settings, lambda lg: sleepy_fast(lg, bundle=10)) as h:
        specs = [TaskSpec(type="fast_sleepy", payload={"sleep_ms": 30}) for _ in range(20)]
        ids = (await h.queue.enqueue_batch(specs)).task_ids
        await h.queue.drain()
        history = [e async for e in h.queue.handle.fetch_history_events()]
        stats = await h.queue.stats()
    assert stats.completed == 20 and all(h.ledger.completions[i] == 1 for i in ids)
    assert h.ledger.max_running == 3  # the queue's limit held inside the calls
    assert calls_in(history) == 2  # 10 tasks a call: 3 running, 7 waiting for a slot


async def test_a_task_that_runs_out_of_time_fails_alone_in_its_call(
    dev_client: Any, settings: Any
) -> None:
    short = {
        "bundle": 5,
        "start_to_close_timeout": timedelta(seconds=1),
        "retry_policy": RetryPolicy(maximum_attempts=1),
    }
    async with running_queue(dev_client, settings, lambda lg: sleepy_fast(lg, **short)) as h:
        sleeps = [10, 10, 3000, 10, 10]
        specs = [TaskSpec(type="fast_sleepy", payload={"sleep_ms": ms}) for ms in sleeps]
        ids = (await h.queue.enqueue_batch(specs)).task_ids
        await h.queue.drain()
        records = [await h.queue.show(task_id) for task_id in ids]
        history = [e async for e in h.queue.handle.fetch_history_events()]
    assert calls_in(history) == 1
    slow = records.pop(2)
    assert (slow.status, slow.attempts) == (TaskStatus.FAILED, 1)
    assert "timed out after 1 s" in (slow.last_error or "")
    assert all(r.status == TaskStatus.COMPLETED and r.attempts == 1 for r in records)


async def test_a_stalled_call_keeps_the_outcomes_its_heartbeat_reported(
    dev_client: Any, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bundles, "CALL_HEARTBEAT", timedelta(seconds=2))
    stalls = Stalls()

    def types(ledger: Ledger) -> list[TaskType]:
        noop = next(t for t in ledger.task_types() if t.name == "noop")
        return [replace(noop, name="fast_stalls", activity=lambda _: stalls.stalls, bundle=5)]

    async with running_queue(dev_client, settings, types) as h:
        payloads = [{}, {}, {"sleep_ms": 5000}, {}]
        specs = [TaskSpec(type="fast_stalls", payload=p) for p in payloads]
        ids = (await h.queue.enqueue_batch(specs)).task_ids
        await h.queue.drain(through_retries=True)
        records = {task_id: await h.queue.show(task_id) for task_id in ids}
    stalled = ids.pop(2)
    # The call timed out on its heartbeat: the stalled task's attempt failed and ran again;
    # the three its heartbeat had reported kept their outcomes and never ran again.
    assert (records[stalled].status, records[stalled].attempts) == (TaskStatus.COMPLETED, 2)
    assert stalls.executions[stalled] == 2
    for task_id in ids:
        assert (records[task_id].status, records[task_id].attempts) == (TaskStatus.COMPLETED, 1)
        assert stalls.executions[task_id] == 1
