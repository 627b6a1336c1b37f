"""The queue's pure state: order, delays, bounded windows, snapshots (no server)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from temporalio.common import RetryPolicy

from taskrunner.queue.budget import request_growth
from taskrunner.queue.models import (
    DrainRequest,
    DrainResult,
    QueueConfig,
    TaskSpec,
    TaskStatus,
)
from taskrunner.queue.queries import queue_stats
from taskrunner.queue.state import QueueState
from taskrunner.tasks.registry import TaskExecution, TaskResult

NOOP = TaskExecution(
    key="noop@1",
    activity="test_noop",
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(maximum_attempts=3),
)
OK = TaskResult(summary="ok")

T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _state(**config: int) -> QueueState:
    return QueueState(QueueConfig(name="unit", **config))


def test_next_task_is_highest_priority_then_oldest_and_delayed_ones_wait() -> None:
    state = _state()
    state.add(TaskSpec(type="noop", priority=1), "a", T0, NOOP)
    state.add(TaskSpec(type="noop", priority=5), "b", T0, NOOP)
    state.add(TaskSpec(type="noop", priority=9, run_at=T0 + timedelta(minutes=5)), "c", T0, NOOP)
    state.add(TaskSpec(type="noop", priority=5), "d", T0, NOOP)
    assert state.next_wake() == T0 + timedelta(minutes=5)
    started = [state.start_next(T0) for _ in range(4)]
    assert [r.id if r else None for r in started] == ["b", "d", "a", None]
    record = state.start_next(T0 + timedelta(minutes=5))
    assert record is not None and record.id == "c" and record.attempts == 1
    assert state.running == 4


def test_cancelled_task_is_skipped_and_windows_stay_bounded() -> None:
    state = _state(recent_limit=2, idempotency_window=2)
    for i in range(5):
        state.add(TaskSpec(type="noop", key=f"k{i}"), f"t{i}", T0, NOOP)
    state.cancel("t0", T0)
    for _ in range(4):
        record = state.start_next(T0)
        assert record is not None and record.id != "t0"
        state.complete(record, OK, T0)
    assert list(state.finished.completed) == ["t3", "t4"]
    assert state.find_key("k4") == "t4" and state.find_key("k1") is None
    stats = queue_stats(state, "unit", 1)
    assert (stats.completed, stats.cancelled, stats.total, stats.enqueued) == (4, 1, 5, 5)


def test_snapshot_round_trip_keeps_work_order_and_counters() -> None:
    state = _state()
    for i in range(300):
        state.add(
            TaskSpec(type="noop", payload={"n": i}, priority=i % 3, key=f"k{i}"), f"t{i}", T0, NOOP
        )
    first = state.start_next(T0)
    assert first is not None
    state.fail(first, "boom", T0)
    done = state.start_next(T0)
    assert done is not None
    state.complete(done, OK, T0)
    encoded = state.to_snapshot()
    assert len(encoded) < 10_000  # 300 tasks compress well
    restored = QueueState.from_snapshot(state.config, encoded)
    assert queue_stats(restored, "unit", 2).model_dump(exclude={"run_number"}) == queue_stats(
        state, "unit", 1
    ).model_dump(exclude={"run_number"})
    assert restored.get(first.id) is not None
    assert restored.get(first.id).status == TaskStatus.FAILED  # type: ignore[union-attr]
    order = [state.start_next(T0), restored.start_next(T0)]
    assert order[0] is not None and order[1] is not None and order[0].id == order[1].id
    assert restored.find_key(done.spec.key) == done.id and restored.find_key("k1") == "t1"


def _drain(state: QueueState, now: datetime = T0, through_retries: bool = False) -> str:
    state.drains.start("d", state.next_seq - 1, DrainRequest(through_retries=through_retries), now)
    return "d"


def _status(state: QueueState, now: datetime = T0) -> DrainResult:
    status = state.drains.status("d", state.tasks.values(), now, state.paused)
    assert status is not None
    return status


def test_drain_counts_only_tasks_pending_when_it_began() -> None:
    state = _state()
    state.add(TaskSpec(type="noop"), "a", T0, NOOP)
    state.add(TaskSpec(type="noop"), "b", T0, NOOP)
    _drain(state)
    state.add(TaskSpec(type="noop"), "late", T0, NOOP)
    assert (_status(state).waiting, _status(state).done) == (2, False)
    for _ in range(2):
        record = state.start_next(T0)
        assert record is not None
        state.complete(record, OK, T0)
    result = _status(state)
    assert result.done and result.waiting == 0
    assert [o.task_id for o in result.outcomes] == ["a", "b"] and result.completed == 2


def test_drain_does_not_wait_for_future_or_backing_off_tasks() -> None:
    state = _state()
    state.add(TaskSpec(type="noop", run_at=T0 + timedelta(hours=3)), "later", T0, NOOP)
    state.add(TaskSpec(type="noop"), "flaky", T0, NOOP)
    _drain(state)
    record = state.start_next(T0)
    assert record is not None and record.id == "flaky"
    state.retry_later(record, "try again", T0 + timedelta(seconds=30))
    result = _status(state)
    assert (result.done, result.waiting, result.scheduled) == (True, 0, 2)
    # Asked to wait through retries, it waits for the backoff, never for run_at.
    _drain(state, through_retries=True)
    assert (_status(state).waiting, _status(state).scheduled) == (1, 1)
    # Once due, a backing-off task is waited for by every drain.
    due = T0 + timedelta(seconds=31)
    assert state.has_ready(due)
    assert state.drains.status("d", state.tasks.values(), due, False).waiting == 1  # type: ignore[union-attr]


def test_drain_is_not_done_while_a_task_it_counts_runs_though_a_failed_one_was_retried() -> None:
    state = _state()
    state.add(TaskSpec(type="noop"), "bad", T0, NOOP)
    state.add(TaskSpec(type="noop"), "long", T0, NOOP)
    bad = state.start_next(T0)
    long = state.start_next(T0)
    assert bad is not None and long is not None
    state.fail(bad, "boom", T0)
    _drain(state)
    state.retry("bad")
    again = state.start_next(T0)
    assert again is not None and again.id == "bad"
    state.complete(again, OK, T0)
    result = _status(state)
    assert not result.done and result.waiting == 1  # "long" still runs
    assert (result.completed, result.failed) == (1, 0)
    state.complete(long, OK, T0)
    result = _status(state)
    assert result.done and (result.completed, result.failed) == (2, 0)


def _sizes(state: QueueState) -> tuple[int, int]:
    encoded, raw = state.measure()
    return len(encoded), raw


def test_enqueues_stop_at_the_state_budget_and_the_estimate_never_undercounts() -> None:
    state = _state(state_budget_bytes=64 * 1024)
    added = 0
    while state.budget.fits(
        request_growth([_blob()]), state.config, lambda: _sizes(state), T0 + timedelta(added)
    ):
        state.add(_blob(), f"t{added}", T0, NOOP)
        assert state.budget.bound >= len(state.to_snapshot())  # random data: the worst case
        added += 1
    assert len(state.to_snapshot()) <= 64 * 1024
    assert added >= 15, added  # measured, not only the worst case (which admits 10)


def test_compressible_tasks_are_counted_as_measured_not_as_the_worst_case() -> None:
    state = _state(state_budget_bytes=64 * 1024)
    measures = 0

    def measure() -> tuple[int, int]:
        nonlocal measures
        measures += 1
        return _sizes(state)

    added = 0
    spec = TaskSpec(type="noop", payload={"note": "same text " * 20})
    while state.budget.fits(request_growth([spec]), state.config, measure, T0 + timedelta(added)):
        state.add(spec, f"t{added}", T0, NOOP)
        added += 1
    assert len(state.to_snapshot()) <= 64 * 1024
    assert added > 1_000 and measures < added // 100, (added, measures)


def test_a_burst_within_one_second_is_measured_again_rather_than_refused() -> None:
    # A batch producer adds thousands of tasks in one second of workflow time: the
    # estimate outgrows what was measured long before the state nears the budget.
    state = _state()
    measures = 0

    def measure() -> tuple[int, int]:
        nonlocal measures
        measures += 1
        return _sizes(state)

    batch = [TaskSpec(type="noop", payload={"index": i}) for i in range(500)]
    for start in range(0, state.config.max_active_tasks, len(batch)):
        assert state.budget.fits(request_growth(batch), state.config, measure, T0), start
        for spec in batch:
            state.add(spec, os.urandom(6).hex(), T0, NOOP)  # random, as the queue's ids
    assert len(state.to_snapshot()) < state.config.state_budget_bytes / 2
    assert measures <= 20, measures  # each one after the estimate at least doubled


def _blob() -> TaskSpec:
    return TaskSpec(type="noop", payload={"blob": os.urandom(2_000).hex()})


def test_ten_thousand_small_keyed_tasks_fit_the_default_budget() -> None:
    state = _state()
    for i in range(state.config.max_active_tasks):
        spec = TaskSpec(type="email", payload={"to": f"user{i}@example.com"}, key=f"order-{i}")
        state.add(spec, f"{i:012x}", T0, NOOP)
    assert len(state.to_snapshot()) < state.config.state_budget_bytes / 2


def test_snapshot_sheds_finished_memory_to_fit_but_keeps_every_unfinished_task() -> None:
    state = _state(recent_limit=1000)
    for i in range(400):
        state.add(
            TaskSpec(type="noop", payload={"b": os.urandom(600).hex()}, key=f"k{i}"),
            f"t{i}",
            T0,
            NOOP,
        )
    for _ in range(300):
        record = state.start_next(T0)
        assert record is not None
        state.complete(record, TaskResult(summary="x" * 900), T0)
    full = len(state.to_snapshot())
    encoded = state.to_snapshot(limit=full - 5_000)
    assert len(encoded) <= full - 5_000
    restored = QueueState.from_snapshot(state.config, encoded)
    assert sorted(restored.tasks) == sorted(state.tasks) and len(restored.tasks) == 100
    assert state.shed and not restored.finished.completed
