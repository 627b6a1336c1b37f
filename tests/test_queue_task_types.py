"""Task types belong to the worker; a queued task keeps what it captured at enqueue.

The queue asks its worker how to run a type (activity, timeouts, retry policy)
when a task is enqueued and records the answer in history: a worker deployed later
with other values neither changes that task nor breaks the replay of the queue.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.common import RetryPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from taskrunner.errors import UserError
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec, TaskStatus
from taskrunner.queue.worker_context import TaskTypesInterceptor
from taskrunner.tasks.builtin import BUILTIN_TASK_TYPES
from taskrunner.tasks.registry import TaskRegistry, TaskType
from taskrunner.worker import WORKFLOWS, build_worker, workflow_runner
from tests.helpers.queue import FAST_RETRY, Ledger, SamplePayload, end_queue

HISTORIES = Path(__file__).parent / "histories"
NEVER = RetryPolicy(maximum_attempts=1)


def work_type(activity: Any, retry: RetryPolicy) -> TaskType:
    return TaskType("work", SamplePayload, lambda _: activity, timedelta(seconds=30), None, retry)


def registry(ledger: Ledger, work: TaskType) -> TaskRegistry:
    return BUILTIN_TASK_TYPES.including(*ledger.task_types(), work)


@pytest.mark.devserver
async def test_queued_task_runs_as_captured_although_the_next_worker_declares_it_otherwise(
    dev_client: Client, settings: Any
) -> None:
    # On the dev server: the time-skipping server does not hand a workflow whose
    # worker stopped over to the next worker (its sticky queue is never given up).
    client = dev_client
    ledger = Ledger()
    queue = QueueClient(client, settings, f"captured-{uuid.uuid4().hex[:8]}")
    # Worker A: "work" runs the no-op activity with three attempts.
    async with build_worker(
        client, settings, task_types=registry(ledger, work_type(ledger.noop, FAST_RETRY))
    ):
        await queue.create(paused=True)
        task = await queue.enqueue(TaskSpec(type="work"))
    # Worker B declares "work" as an activity that always fails, with one attempt. The
    # queue workflow is replayed on B from history, then runs the task as enqueued.
    async with build_worker(
        client, settings, task_types=registry(ledger, work_type(ledger.always_fails, NEVER))
    ):
        try:
            await queue.resume()
            drained = await queue.drain(through_retries=True)
            record = await queue.show(task.task_id)
        finally:
            await end_queue(queue)  # while a worker can still answer its query
    assert drained.completed == 1
    assert record.status == TaskStatus.COMPLETED and record.attempts == 1
    assert ledger.completions[task.task_id] == 1


async def test_a_type_this_worker_does_not_declare_is_rejected_at_enqueue(
    client: Client, settings: Any
) -> None:
    queue = QueueClient(client, settings, f"unknown-{uuid.uuid4().hex[:8]}")
    async with build_worker(client, settings):
        try:
            await queue.enqueue(TaskSpec(type="work"))
        except UserError as err:
            message = str(err)
        else:
            raise AssertionError("an unknown type was accepted")
        finally:
            await end_queue(queue)
    assert message == "unknown task type 'work' (known types: dataSync, email, report)"


async def test_recorded_queue_history_replays_under_a_registry_declared_otherwise() -> None:
    path = HISTORIES / "queue_retries_continue_as_new.json"
    history = WorkflowHistory.from_json("replay-changed-registry", path.read_text())
    ledger = Ledger()
    # Every test type now runs another activity with another retry policy.
    changed = BUILTIN_TASK_TYPES.including(
        *(
            TaskType(t.name, SamplePayload, lambda _: ledger.always_fails, t.start_to_close_timeout)
            for t in ledger.task_types()
        )
    )
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
        interceptors=[TaskTypesInterceptor(changed)],
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
