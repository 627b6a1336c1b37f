"""Enqueue: validation at the door, idempotency keys, batches."""

from __future__ import annotations

import pytest

from taskrunner.errors import UserError
from taskrunner.queue.models import (
    TaskSpec,
    TaskStatus,
)
from tests.helpers.queue import QueueHarness, assert_accounted


async def test_queue_rejects_unknown_task_type_and_lists_known_ones(queue: QueueHarness) -> None:
    await queue.queue.enqueue(TaskSpec(type="noop"))
    before = await queue.queue.stats()
    with pytest.raises(UserError) as err:
        await queue.queue.enqueue(TaskSpec(type="fax", payload={"to": "1234"}))
    assert str(err.value).startswith("unknown task type 'fax' (known types: ")
    assert "always_fails" in str(err.value) and "noop" in str(err.value)
    assert (await queue.queue.stats()).enqueued == before.enqueued == 1


async def test_queue_rejects_invalid_payload_naming_field_and_reason(queue: QueueHarness) -> None:
    with pytest.raises(UserError) as err:
        await queue.queue.enqueue(TaskSpec(type="noop", payload={"n": -1}))
    assert str(err.value) == (
        "invalid payload for task type 'noop': n: Input should be greater than or equal to 0"
    )
    with pytest.raises(UserError) as err:
        await queue.queue.enqueue(TaskSpec(type="noop", payload={"colour": "red"}))
    assert "colour: Extra inputs are not permitted" in str(err.value)
    # The rejected tasks never entered state (the queue was created, and is empty).
    stats = await queue.queue.stats()
    assert stats.enqueued == 0 and stats.total == 0
    assert await queue.queue.list() == []


async def test_batch_enqueue_is_all_or_nothing_and_names_the_bad_index(
    queue: QueueHarness,
) -> None:
    good = [TaskSpec(type="noop", payload={"n": i}) for i in range(5)]
    bad = [*good[:3], TaskSpec(type="noop", payload={"n": "x"}), *good[3:]]
    with pytest.raises(UserError) as err:
        await queue.queue.enqueue_batch(bad)
    assert str(err.value).startswith("task 3: invalid payload for task type 'noop': n: ")
    await queue.queue.enqueue(TaskSpec(type="noop"))
    assert (await queue.queue.stats()).enqueued == 1

    result = await queue.queue.enqueue_batch(good)
    assert result.created == 5 and len(set(result.task_ids)) == 5
    await queue.queue.drain(through_retries=True)
    stats = await queue.queue.stats()
    assert stats.completed == 6
    assert_accounted(stats)


async def test_batch_index_counts_across_chunks(queue: QueueHarness) -> None:
    queue.queue.settings.queue.batch_size = 4
    specs = [TaskSpec(type="noop", payload={"n": i}) for i in range(10)]
    specs[9] = TaskSpec(type="nope")
    with pytest.raises(UserError) as err:
        await queue.queue.enqueue_batch(specs)
    assert str(err.value).startswith("task 9: unknown task type 'nope'")


async def test_same_idempotency_key_returns_the_existing_task(queue: QueueHarness) -> None:
    first = await queue.queue.enqueue(TaskSpec(type="noop", key="order-42"))
    again = await queue.queue.enqueue(TaskSpec(type="noop", payload={"n": 2}, key="order-42"))
    assert first.created and not again.created
    assert again.task_id == first.task_id
    batch = await queue.queue.enqueue_batch(
        [TaskSpec(type="noop", key="order-42"), TaskSpec(type="noop", key="order-43")]
    )
    assert batch.task_ids[0] == first.task_id and batch.created == 1
    await queue.queue.drain(through_retries=True)
    # A finished task's key is still remembered.
    late = await queue.queue.enqueue(TaskSpec(type="noop", key="order-42"))
    assert late.task_id == first.task_id and not late.created
    assert queue.ledger.executions[first.task_id] == 1
    stats = await queue.queue.stats()
    assert stats.enqueued == 2 and stats.completed == 2
    assert (await queue.queue.show(first.task_id)).status == TaskStatus.COMPLETED
    assert_accounted(stats)


async def test_the_worker_refuses_a_report_its_settings_do_not_declare(
    queue: QueueHarness,
) -> None:
    # Not only the CLI: any client's enqueue meets the worker's own report names.
    with pytest.raises(UserError) as err:
        await queue.queue.enqueue(TaskSpec(type="report", payload={"report_type": "inventory"}))
    assert str(err.value) == (
        "invalid payload for task type 'report': report_type: Value error, unknown report "
        "'inventory' (known reports: sales)"
    )
    assert (await queue.queue.stats()).total == 0
