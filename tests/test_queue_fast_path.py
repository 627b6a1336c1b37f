"""The fast path: bundled task types run several tasks per activity call, with every
guarantee of the remote path (attempt counts, the failed list and retry, idempotency
keys, continue-as-new with calls in flight).

On the dev server: a busy queue on the time-skipping server can leave a query
unanswered, which locks that server's clock for every later test (see
test_queue_continue_as_new.py); these tests need no skipped time."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

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
