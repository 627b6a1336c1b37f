"""Client-side API of the task queue, used by the CLI, tests, benchmarks and activities.

Every call goes to the queue workflow ``task-queue/<name>`` through updates and
queries. Enqueue uses update-with-start, so the first task creates the queue.
Validation failures come back as one-line :class:`UserError`; the server's limit
on in-flight updates per workflow (RESOURCE_EXHAUSTED) is absorbed by a short,
bounded backoff.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from taskrunner.errors import UserError
from taskrunner.queue import models
from taskrunner.queue.calls import call_queue, update_slot
from taskrunner.queue.models import TaskSpec, TaskStatus, queue_workflow_id
from taskrunner.queue.requests import (
    MAX_REQUEST_BYTES,
    chunk_ranges,
    request_size,
    shift_index,
    too_big,
)
from taskrunner.queue.workflow import TaskQueueWorkflow
from taskrunner.settings import Settings

T = TypeVar("T")

QUERY_TIMEOUT = timedelta(seconds=10)
"""A drain's reading waits this long for the queue's worker to answer."""
QUERY_BUSY = (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED)
"""What a query answers when no workflow task could take it in time (read again)."""
DRAIN_POLL = (0.02, 0.5)
"""Shortest and longest wait between two readings of a drain, in seconds."""


def next_reading(
    before: models.DrainResult, now: models.DrainResult, seconds: float, last: float
) -> float:
    """Seconds until a drain is read again: half the time its waiting tasks take at the
    rate they finished since the last reading (``seconds`` ago), so the end is read soon
    after it comes while a busy queue answers few queries (each costs its worker a
    workflow task); half as long again as ``last`` while none finishes."""
    finished = now.processed - before.processed
    if finished <= 0 or seconds <= 0:
        return _within(last * 1.5)
    return _within(now.waiting * seconds / finished / 2)


def _within(seconds: float) -> float:
    shortest, longest = DRAIN_POLL
    return min(max(seconds, shortest), longest)


class QueueClient:
    """Enqueue into, command and query one named queue."""

    def __init__(self, client: Client, settings: Settings, name: str | None = None) -> None:
        self.client = client
        self.settings = settings
        self.name = name or settings.queue.name
        self.workflow_id = queue_workflow_id(self.name)

    @property
    def handle(self) -> WorkflowHandle[Any, Any]:
        return self.client.get_workflow_handle(self.workflow_id)

    # -- enqueue -----------------------------------------------------------------

    async def enqueue(self, spec: TaskSpec) -> models.Enqueued:
        """Add one task (creating the queue if needed); returns its id."""
        size = request_size(spec)
        if size > MAX_REQUEST_BYTES:
            raise UserError(too_big(size))
        # One update id for every try: the queue answers a re-sent update from memory.
        update_id = str(uuid.uuid4())
        return await self._call(
            lambda: self._with_start(TaskQueueWorkflow.enqueue, spec, update_id)
        )

    async def enqueue_batch(self, specs: Sequence[TaskSpec]) -> models.BatchEnqueued:
        """Add many tasks, ``settings.queue.batch_size`` per update, in order.

        Each update is validated all-or-nothing; a bad task names its index in the
        whole batch. Chunks before a rejected one stay enqueued.
        """
        ids: list[str] = []
        created = 0
        for start, end in chunk_ranges(specs, self.settings.queue.batch_size):
            batch = models.EnqueueBatch(tasks=list(specs[start:end]))
            update_id = str(uuid.uuid4())
            try:
                result = await self._call(
                    lambda b=batch, u=update_id: self._with_start(  # type: ignore[misc]
                        TaskQueueWorkflow.enqueue_batch, b, u
                    )
                )
            except UserError as err:
                raise UserError(shift_index(str(err), start)) from None
            ids += result.task_ids
            created += result.created
        return models.BatchEnqueued(task_ids=ids, created=created)

    async def create(self, paused: bool = False) -> None:
        """Create the queue now (enqueue creates it too), optionally paused."""
        update_id = str(uuid.uuid4())
        await self._call(
            lambda: self._with_start(
                TaskQueueWorkflow.enqueue_batch, models.EnqueueBatch(tasks=[]), update_id
            )
        )
        if paused:
            await self.pause()

    async def _with_start(self, update: Any, arg: Any, update_id: str) -> Any:
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            TaskQueueWorkflow.run,
            models.QueueInput(config=self.settings.queue.config(self.name)),
            id=self.workflow_id,
            task_queue=self.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # A queue never ends by itself: a closed one was terminated, and starting an
            # empty queue in its place would forget its tasks and keys (see recover).
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        async with self._slot():
            return await self.client.execute_update_with_start_workflow(
                update, arg, start_workflow_operation=start, id=update_id
            )

    # -- commands ----------------------------------------------------------------

    async def cancel(self, task_id: str) -> models.CommandResult:
        return await self._update(TaskQueueWorkflow.cancel, models.TaskRef(task_id=task_id))

    async def retry(self, task_id: str) -> models.CommandResult:
        return await self._update(TaskQueueWorkflow.retry, models.TaskRef(task_id=task_id))

    async def retry_all(self) -> models.CommandResult:
        return await self._update(TaskQueueWorkflow.retry_all)

    async def purge(self) -> models.CommandResult:
        return await self._update(TaskQueueWorkflow.purge)

    async def pause(self) -> models.CommandResult:
        return await self._update(TaskQueueWorkflow.pause)

    async def resume(self) -> models.CommandResult:
        return await self._update(TaskQueueWorkflow.resume)

    async def drain(
        self,
        max_outcomes: int = 100,
        *,
        through_retries: bool = False,
        progress: Callable[[models.DrainResult], None] | None = None,
    ) -> models.DrainResult:
        """Wait until every task due or running now has finished, across queue runs.

        Tasks due later (``run_at``, or a retry backoff unless ``through_retries``) are
        reported as ``scheduled`` and not waited for. The wait polls a query: it holds
        none of the queue's in-flight updates, and giving up (Ctrl-C) costs the queue
        nothing. ``progress`` is called with each new reading.
        """
        request = models.DrainRequest(max_outcomes=max_outcomes, through_retries=through_retries)
        status = await self._update(TaskQueueWorkflow.drain, request)
        ref = models.DrainRef(drain_id=status.drain_id)
        delay, read_at = DRAIN_POLL[0], time.monotonic()
        if progress is not None and not (status.done or status.paused):
            progress(status)
        while not (status.done or status.paused):
            await asyncio.sleep(delay)
            try:
                found = await self._call(
                    lambda: self.handle.query(
                        TaskQueueWorkflow.drain_status, ref, rpc_timeout=QUERY_TIMEOUT
                    )
                )
            except RPCError as err:
                if err.status not in QUERY_BUSY:
                    raise
                delay = _within(delay * 1.5)
                continue  # the queue is between runs or busy: read it again
            if found is None:
                raise UserError(f"queue {self.name!r} forgot this drain; drain again")
            if progress is not None and found != status:
                progress(found)
            now = time.monotonic()
            delay = next_reading(status, found, now - read_at, delay)
            status, read_at = found, now
        return status

    async def _update(self, update: Any, *args: Any) -> Any:
        # One update id for every try: the queue answers a re-sent command from memory.
        update_id = str(uuid.uuid4())
        return await self._call(lambda: self._send_update(update, update_id, *args))

    async def _send_update(self, update: Any, update_id: str, *args: Any) -> Any:
        async with self._slot():
            return await self.handle.execute_update(update, *args, id=update_id)

    # -- queries -----------------------------------------------------------------

    async def stats(self) -> models.QueueStats:
        return await self._call(lambda: self.handle.query(TaskQueueWorkflow.stats))

    async def list(
        self, status: TaskStatus | None = None, limit: int = 50
    ) -> list[models.TaskRecord]:
        request = models.ListTasks(status=status, limit=limit)
        return await self._call(lambda: self.handle.query(TaskQueueWorkflow.list_tasks, request))

    async def show(self, task_id: str) -> models.TaskRecord:
        record = await self._call(
            lambda: self.handle.query(TaskQueueWorkflow.task, models.TaskRef(task_id=task_id))
        )
        if record is None:
            raise UserError(f"unknown task id {task_id!r} in queue {self.name!r}")
        return record

    async def recover(self, *, force: bool = False) -> models.QueueStats:
        """Start the queue again from its closed run's state: every unfinished task and key.

        A query on the closed run replays its history (a worker must be running). Tasks
        that were running when it was cut off run again. With ``force``, a running queue
        (say, one whose workflow task keeps failing) is terminated first.
        """
        description = await self._call(self.handle.describe)
        if description.status == WorkflowExecutionStatus.RUNNING:
            if not force:
                raise UserError(
                    f"queue {self.name!r} is running; nothing to recover (--force terminates "
                    "it first, for a queue that is stuck)"
                )
            await self.handle.terminate("taskrunner queue recover --force")
        closed = self.client.get_workflow_handle(self.workflow_id, run_id=description.run_id)
        state = await self._call(lambda: closed.query(TaskQueueWorkflow.recovery))
        await self.client.start_workflow(
            TaskQueueWorkflow.run,
            state,
            id=self.workflow_id,
            task_queue=self.settings.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
        return await self.stats()

    async def exists(self) -> bool:
        try:
            await self.handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        return await call_queue(self.name, self.handle, call)

    def _slot(self) -> asyncio.Semaphore:
        return update_slot(self.client, self.workflow_id)
