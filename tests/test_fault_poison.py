"""Poison tasks (hang, unexpected exception, unserializable result) fail alone; the rest flow."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client

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
from tests.helpers.queue import FAST_RETRY, SamplePayload, assert_accounted, end_queue

pytestmark = pytest.mark.faults

HANG_TIMEOUT = timedelta(seconds=1)


class Poison:
    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.release = asyncio.Event()

    def _count(self, params: TaskActivityInput) -> None:
        self.calls[params.task_id] = self.calls.get(params.task_id, 0) + 1

    @activity.defn(name="test_hangs")
    async def hangs(self, params: TaskActivityInput) -> TaskResult:
        self._count(params)
        # Hangs past its start-to-close timeout; released at the end so the worker can stop.
        await self.release.wait()
        return TaskResult(summary="too late")

    @activity.defn(name="test_divides")
    async def divides(self, params: TaskActivityInput) -> TaskResult:
        self._count(params)
        return TaskResult(summary=str(1 / params.payload.get("n", 0)))

    @activity.defn(name="test_unserializable")
    async def unserializable(self, params: TaskActivityInput) -> TaskResult:
        self._count(params)
        return TaskResult(summary="has a socket", details={"handle": object()})

    @activity.defn(name="test_fine")
    async def fine(self, params: TaskActivityInput) -> TaskResult:
        self._count(params)
        return TaskResult(summary="fine")

    def task_types(self) -> list[TaskType]:
        def of(name: str, run: Any, timeout: timedelta = timedelta(seconds=30)) -> TaskType:
            return TaskType(name, SamplePayload, lambda _: run, timeout, retry_policy=FAST_RETRY)

        return [
            of("hangs", self.hangs, HANG_TIMEOUT),
            of("divides", self.divides),
            of("unserializable", self.unserializable),
            of("fine", self.fine),
        ]


async def test_poison_tasks_are_retried_then_fail_while_other_tasks_complete(
    client: Client, make_settings: Any
) -> None:
    from taskrunner.worker import build_worker

    settings = make_settings(queue={"max_concurrency": 4})
    poison = Poison()
    queue = QueueClient(client, settings, f"poison-{uuid.uuid4().hex[:8]}")
    task_types = BUILTIN_TASK_TYPES.including(*poison.task_types())
    async with build_worker(client, settings, task_types=task_types):
        try:
            before = await queue.enqueue_batch(
                [TaskSpec(type="fine", payload={"n": i}) for i in range(10)]
            )
            bad = {
                kind: (await queue.enqueue(TaskSpec(type=kind))).task_id
                for kind in ("hangs", "divides", "unserializable")
            }
            after = await queue.enqueue_batch(
                [TaskSpec(type="fine", payload={"n": i}) for i in range(10, 30)]
            )
            drained = await queue.drain(through_retries=True)
            stats = await queue.stats()
            records = {k: await queue.show(t) for k, t in bad.items()}
            fine = [await queue.show(t) for t in before.task_ids + after.task_ids]
        finally:
            poison.release.set()
            await end_queue(queue)

    assert drained.done
    assert_accounted(stats)
    assert stats.completed == 30 and stats.failed == 3
    assert all(r.status == TaskStatus.COMPLETED for r in fine)
    attempts = FAST_RETRY.maximum_attempts
    for kind, record in records.items():
        assert record.status == TaskStatus.FAILED, kind
        assert record.attempts == attempts, kind
        assert poison.calls[record.id] == attempts, kind
    assert records["hangs"].last_error == "activity timed out (START_TO_CLOSE timeout)"
    assert records["divides"].last_error == "ZeroDivisionError: division by zero"
    assert (records["unserializable"].last_error or "").startswith(
        "PydanticSerializationError: Unable to serialize unknown type"
    )
