"""How one turn of the queue forms bundled calls: a call takes the free slots, then is
topped up with the next ready tasks of its type, which wait inside it (no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio.common import RetryPolicy

from taskrunner.queue.bundles import Bundles, Call
from taskrunner.queue.models import QueueConfig, TaskSpec, TaskStatus
from taskrunner.queue.state import QueueState
from taskrunner.tasks.registry import TaskExecution

NOOP = TaskExecution(
    key="noop@1",
    activity="test_noop",
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(maximum_attempts=3),
)
FAST = NOOP.model_copy(update={"key": "fast@1", "activity": "test_fast", "bundle": 4})
T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _turn(state: QueueState, slots: int) -> list[Call]:
    """One turn as the queue takes it: start tasks while slots are free, then top up."""
    bundles, calls = Bundles(state), []
    for _ in range(slots):
        record = state.start_next(T0)
        if record is None:
            break
        assert bundles.bundled(record)
        if full := bundles.add(record):
            calls.append(full)
    bundles.top_up(T0)
    return calls + bundles.rest()


def _state(*tasks: tuple[str, TaskExecution]) -> QueueState:
    state = QueueState(QueueConfig(name="unit"))
    for task_id, execution in tasks:
        kind = "fast" if execution is FAST else "noop"
        state.add(TaskSpec(type=kind), task_id, T0, execution)
    return state


def test_a_call_takes_the_free_slots_and_waiting_tasks_fill_the_rest() -> None:
    state = _state(*((f"f{i}", FAST) for i in range(6)))
    [call] = _turn(state, slots=2)
    assert [r.id for r in call.records] == ["f0", "f1", "f2", "f3"]
    assert (call.width, call.waiting) == (2, 2)  # at most 2 of them run at once
    assert all(r.status == TaskStatus.RUNNING and r.attempts == 1 for r in call.records)
    assert state.running == 4 and state.next_ready(T0).id == "f4"  # type: ignore[union-attr]


def test_topping_up_never_takes_a_task_out_of_run_order() -> None:
    state = _state(("f0", FAST), ("f1", FAST), ("n0", NOOP), ("f2", FAST))
    [call] = _turn(state, slots=1)
    # f1 waits in f0's call; n0 is next in order and is no fast task: topping up stops
    # there, and f2 (behind n0) waits for the next turn.
    assert [r.id for r in call.records] == ["f0", "f1"] and call.width == 1
    assert state.next_ready(T0).id == "n0"  # type: ignore[union-attr]
    assert state.tasks["f2"].status == TaskStatus.PENDING


def test_with_slots_to_spare_calls_are_as_before_and_nothing_waits() -> None:
    state = _state(*((f"f{i}", FAST) for i in range(5)))
    calls = _turn(state, slots=10)
    assert [[r.id for r in c.records] for c in calls] == [["f0", "f1", "f2", "f3"], ["f4"]]
    assert [c.waiting for c in calls] == [0, 0]
