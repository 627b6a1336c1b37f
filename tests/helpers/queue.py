"""Test-only task types whose activities record every execution in a ledger.

``running_queue(...)`` registers them for the test's duration, runs the real
worker with their activities added, and hands back a :class:`QueueClient` on a
queue of the test's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from taskrunner.errors import INVALID_TASK_DATA
from taskrunner.policies import DEFAULT_RETRY
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import QueueStats
from taskrunner.settings import Settings
from taskrunner.tasks.builtin import BUILTIN_TASK_TYPES
from taskrunner.tasks.common import heartbeating
from taskrunner.tasks.registry import TaskActivityInput, TaskResult, TaskType
from tests.helpers import assert_eventually

FAST_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=10),
    maximum_interval=timedelta(milliseconds=50),
    maximum_attempts=3,
    non_retryable_error_types=[INVALID_TASK_DATA],
)


class SamplePayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = Field(default=0, ge=0)
    sleep_ms: int = Field(default=0, ge=0, le=5000)


@dataclass
class Ledger:
    """What the test activities saw: executions per task, start order, concurrency."""

    executions: Counter[str] = field(default_factory=Counter)
    completions: Counter[str] = field(default_factory=Counter)
    started: list[str] = field(default_factory=list)
    running: int = 0
    max_running: int = 0
    broken: bool = True
    """While True, ``always_fails`` and ``flaky`` fail; a test "fixes the cause" by clearing it."""
    release: asyncio.Event = field(default_factory=asyncio.Event)
    """``sleepy`` tasks with sleep_ms=0 wait for this instead of a fixed time."""

    def _enter(self, params: TaskActivityInput) -> None:
        self.executions[params.task_id] += 1
        self.started.append(params.task_id)
        self.running += 1
        self.max_running = max(self.max_running, self.running)

    def _done(self, params: TaskActivityInput) -> TaskResult:
        self.running -= 1
        self.completions[params.task_id] += 1
        return TaskResult(summary=f"done {params.task_id}", details={"n": params.payload.get("n")})

    @activity.defn(name="test_noop")
    async def noop(self, params: TaskActivityInput) -> TaskResult:
        self._enter(params)
        return self._done(params)

    @activity.defn(name="test_sleepy")
    async def sleepy(self, params: TaskActivityInput) -> TaskResult:
        self._enter(params)
        try:
            if params.payload.get("sleep_ms"):
                await asyncio.sleep(params.payload["sleep_ms"] / 1000)
            else:
                await self.release.wait()
        except BaseException:
            self.running -= 1
            raise
        return self._done(params)

    @activity.defn(name="test_beating")
    async def beating(self, params: TaskActivityInput) -> TaskResult:
        """Like ``sleepy`` with sleep_ms=0, heartbeating all the while."""
        self._enter(params)
        try:
            async with heartbeating(lambda: params.task_id):
                await self.release.wait()
        except BaseException:
            self.running -= 1
            raise
        return self._done(params)

    @activity.defn(name="test_flaky")
    async def flaky(self, params: TaskActivityInput) -> TaskResult:
        """Fails on the task's very first attempt, succeeds on every later one."""
        self._enter(params)
        if activity.info().attempt + params.attempt_offset == 1:
            self.running -= 1
            raise ApplicationError("first attempt always fails")
        return self._done(params)

    @activity.defn(name="test_always_fails")
    async def always_fails(self, params: TaskActivityInput) -> TaskResult:
        self._enter(params)
        if self.broken:
            self.running -= 1
            raise ApplicationError("the disk is on fire", type="DiskOnFire")
        return self._done(params)

    def task_types(self) -> list[TaskType]:
        """The test task types, run by this ledger's activities."""

        def of(name: str, run: Any, retry: RetryPolicy = FAST_RETRY) -> TaskType:
            return TaskType(name, SamplePayload, lambda _: run, timedelta(seconds=30), None, retry)

        return [
            of("noop", self.noop),
            of("sleepy", self.sleepy),
            TaskType(
                "beating",
                SamplePayload,
                lambda _: self.beating,
                timedelta(minutes=10),
                timedelta(seconds=3),
                FAST_RETRY,
            ),
            of("flaky", self.flaky),
            of("doomed", self.always_fails),
            # Fails for good on its first attempt: no backoff a drain would not wait for.
            of("hopeless", self.always_fails, RetryPolicy(maximum_attempts=1)),
            # The production default: 3 attempts, exponential backoff from 1 s.
            of("always_fails", self.always_fails, DEFAULT_RETRY),
        ]


@dataclass
class QueueHarness:
    queue: QueueClient
    ledger: Ledger
    client: Client


@contextlib.asynccontextmanager
async def running_queue(
    client: Client,
    settings: Settings,
    extra_types: Callable[[Ledger], list[TaskType]] = lambda ledger: [],
) -> AsyncIterator[QueueHarness]:
    """Worker + test task types + a fresh queue; the queue workflow is ended afterwards.

    ``extra_types`` adds task types of the test's own (given the ledger, for activities).
    """
    from taskrunner.worker import build_worker

    ledger = Ledger()
    queue = QueueClient(client, settings, f"test-{uuid.uuid4().hex[:10]}")
    task_types = BUILTIN_TASK_TYPES.including(*ledger.task_types(), *extra_types(ledger))
    async with build_worker(client, settings, task_types=task_types):
        try:
            yield QueueHarness(queue, ledger, client)
        finally:
            ledger.release.set()
            await end_queue(queue)


ACTIVITY_ENDS = ("completed", "failed", "timed_out", "canceled")


async def end_queue(queue: QueueClient) -> None:
    """Terminate a test's queue workflow once nothing of it is in flight.

    The time-skipping server stops skipping time for good when a workflow is
    terminated with an activity (a task, or the notification a failed task sends
    after its state changed) or a workflow task in flight, and every later test that
    sleeps hangs. The history shows activities in flight; a query is answered only
    between workflow tasks, so once it returns none is in flight.
    """
    with contextlib.suppress(Exception):
        await assert_eventually(lambda: _quiet(queue), timeout=60)
    with contextlib.suppress(Exception):
        await queue.handle.terminate("test over")


async def _quiet(queue: QueueClient) -> None:
    kinds: list[str] = [
        str(e.WhichOneof("attributes")) for e in (await queue.handle.fetch_history()).events
    ]
    scheduled = kinds.count("activity_task_scheduled_event_attributes")
    ended = sum(kinds.count(f"activity_task_{end}_event_attributes") for end in ACTIVITY_ENDS)
    assert scheduled == ended, f"{scheduled - ended} activities in flight"
    assert (await queue.stats()).running == 0


def assert_accounted(stats: QueueStats) -> None:
    """Every enqueued task is in exactly one state (purged ones counted apart)."""
    parts = stats.pending + stats.running + stats.completed + stats.failed + stats.cancelled
    assert parts == stats.total, stats
    assert stats.total + stats.purged == stats.enqueued, stats
    for name, counts in stats.by_type.items():
        assert min(counts.model_dump().values()) >= 0, (name, counts)
