"""Load with faults: 5,000 tasks, 5% of them failing in designed ways, exact accounting."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from taskrunner.errors import INVALID_TASK_DATA
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import (
    TaskSpec,
    TaskStatus,
)
from taskrunner.tasks.builtin import BUILTIN_TASK_TYPES
from taskrunner.tasks.registry import (
    TaskActivityInput,
    TaskResult,
    TaskType,
)
from tests.helpers.queue import FAST_RETRY, assert_accounted, end_queue

pytestmark = pytest.mark.faults

TASKS = 5000
FAULT_RATE = 0.05
SEED = 20261127
FAULTS = ("flaky", "exhausted", "invalid")
"""flaky: fails once, then succeeds; exhausted: always a retryable error; invalid: bad data."""


class ChaosPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int
    fault: str = "none"


class Chaos:
    def __init__(self) -> None:
        self.executions: Counter[str] = Counter()

    @activity.defn(name="test_chaos")
    async def run(self, params: TaskActivityInput) -> TaskResult:
        self.executions[params.task_id] += 1
        fault = params.payload["fault"]
        attempt = activity.info().attempt + params.attempt_offset
        if fault == "flaky" and attempt == 1:
            raise ApplicationError("transient outage", type="Outage")
        if fault == "exhausted":
            raise ApplicationError(f"source {params.payload['n']} is down", type="Outage")
        if fault == "invalid":
            raise ApplicationError(
                f"record {params.payload['n']} is malformed",
                type=INVALID_TASK_DATA,
                non_retryable=True,
            )
        return TaskResult(summary="ok")


def design() -> list[TaskSpec]:
    rng = random.Random(SEED)
    return [
        TaskSpec(
            type="chaos",
            payload={
                "n": i,
                "fault": rng.choice(FAULTS) if rng.random() < FAULT_RATE else "none",
            },
        )
        for i in range(TASKS)
    ]


async def test_five_thousand_tasks_with_faults_are_accounted_exactly(
    dev_client: Client, make_settings: Any
) -> None:
    # The dev server: a busy queue on the time-skipping server can leave a query
    # unanswered, which locks that server's clock for every later test.
    client = dev_client
    from taskrunner.worker import build_worker

    settings = make_settings(queue={"max_concurrency": 20, "batch_size": 500, "recent_limit": 10})
    specs = design()
    faults = Counter(s.payload["fault"] for s in specs)
    assert all(faults[f] > 20 for f in FAULTS), faults
    chaos = Chaos()
    queue = QueueClient(client, settings, f"load-{uuid.uuid4().hex[:8]}")
    chaos_type = TaskType(
        "chaos", ChaosPayload, lambda _: chaos.run, timedelta(seconds=30), retry_policy=FAST_RETRY
    )
    async with build_worker(client, settings, task_types=BUILTIN_TASK_TYPES.including(chaos_type)):
        try:
            ids = (await queue.enqueue_batch(specs)).task_ids
            drained = await queue.drain(max_outcomes=0, through_retries=True)
            stats = await queue.stats()
            failed = await queue.list(TaskStatus.FAILED, limit=TASKS)
            running = await queue.list(TaskStatus.RUNNING, limit=TASKS)
        finally:
            await end_queue(queue)

    expected_failed = {
        ids[i]: s.payload
        for i, s in enumerate(specs)
        if s.payload["fault"] != "none" and s.payload["fault"] != "flaky"
    }
    assert drained.done
    assert_accounted(stats)
    assert stats.enqueued == TASKS
    assert stats.completed + stats.failed == TASKS
    assert stats.pending == stats.running == 0 and not running
    assert stats.failed == len(expected_failed) == faults["exhausted"] + faults["invalid"]
    assert {r.id for r in failed} == set(expected_failed)
    for record in failed:
        payload = expected_failed[record.id]
        if payload["fault"] == "invalid":
            assert record.last_error == f"InvalidTaskData: record {payload['n']} is malformed"
            assert record.attempts == 1
        else:
            assert record.last_error == f"Outage: source {payload['n']} is down"
            assert record.attempts == FAST_RETRY.maximum_attempts
    # Every retryable fault was retried; nothing ran more often than its policy allows.
    for i, spec in enumerate(specs):
        runs = chaos.executions[ids[i]]
        want = {"none": 1, "flaky": 2, "invalid": 1, "exhausted": FAST_RETRY.maximum_attempts}
        assert runs == want[spec.payload["fault"]], (spec.payload, runs)
