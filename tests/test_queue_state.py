"""The queue's pure state: order, delays, bounded windows, snapshots (no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio.common import RetryPolicy

from taskrunner.queue.models import (
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
    assert list(state.completed) == ["t3", "t4"]
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


def test_drain_counts_only_tasks_pending_when_it_began() -> None:
    state = _state()
    state.add(TaskSpec(type="noop"), "a", T0, NOOP)
    state.add(TaskSpec(type="noop"), "b", T0, NOOP)
    drain = state.drains.start(state.next_seq - 1, state.active_up_to(state.next_seq - 1), 10)
    state.add(TaskSpec(type="noop"), "late", T0, NOOP)
    for _ in range(3):
        record = state.start_next(T0)
        assert record is not None
        state.complete(record, OK, T0)
    result = state.drains.stop(drain)
    assert drain.remaining == 0
    assert [o.task_id for o in result.outcomes] == ["a", "b"] and result.completed == 2
