"""Client-side API of the task queue, used by the CLI, tests, benchmarks and activities.

Every call goes to the queue workflow ``task-queue/<name>`` through updates and
queries. Enqueue uses update-with-start, so the first task creates the queue.
Validation failures come back as one-line :class:`UserError`; the server's limit
on in-flight updates per workflow (RESOURCE_EXHAUSTED) is absorbed by a short,
bounded backoff.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCError, RPCStatusCode

from taskrunner.errors import UserError
from taskrunner.queue import models
from taskrunner.queue.models import TaskSpec, TaskStatus, queue_workflow_id
from taskrunner.queue.requests import (
    MAX_REQUEST_BYTES,
    chunk_ranges,
    failure_text,
    request_size,
    shift_index,
    too_big,
)
from taskrunner.queue.workflow import TaskQueueWorkflow
from taskrunner.settings import Settings

T = TypeVar("T")

BUSY_RETRIES = 12
"""Tries of one call while the server reports too many in-flight updates."""
BUSY_BACKOFF = (0.05, 2.0)
"""First and longest wait between those tries, in seconds."""
UPDATE_SLOTS = 8
"""Short updates one process keeps in flight per queue workflow.

The dev server refuses an 11th in-flight update per workflow (RESOURCE_EXHAUSTED);
queueing excess calls here, below that limit (leaving room for drains, which stay
in flight while they wait), is far faster than many producers backing off and
retrying. Other processes' updates can still hit the limit: the backoff remains.
"""
_SLOTS: weakref.WeakKeyDictionary[Client, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


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
        )
        async with self._slot():
            return await self.client.execute_update_with_start_workflow(
                update, arg, start_workflow_operation=start, id=update_id
            )

    def _slot(self) -> asyncio.Semaphore:
        """This process's share of the queue's in-flight updates (see UPDATE_SLOTS)."""
        slots = _SLOTS.setdefault(self.client, {})
        if self.workflow_id not in slots:
            slots[self.workflow_id] = asyncio.Semaphore(UPDATE_SLOTS)
        return slots[self.workflow_id]

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

    async def drain(self, max_outcomes: int = 1000) -> models.DrainResult:
        """Wait until everything pending or running now has finished, across queue runs."""
        total = models.DrainResult(up_to_seq=0, done=False)
        request = models.DrainRequest(max_outcomes=max_outcomes)
        while True:
            part = await self._update(TaskQueueWorkflow.drain, request)
            total.up_to_seq = part.up_to_seq
            total.completed += part.completed
            total.failed += part.failed
            total.cancelled += part.cancelled
            room = max_outcomes - len(total.outcomes)
            total.outcomes += part.outcomes[:room]
            if part.done or part.paused:
                total.done, total.paused = part.done, part.paused
                return total
            # The queue continued as new meanwhile: keep waiting on its next run.
            request = models.DrainRequest(up_to_seq=part.up_to_seq, max_outcomes=room)
            await asyncio.sleep(BUSY_BACKOFF[0])

    async def _update(self, update: Any, *args: Any) -> Any:
        return await self._call(lambda: self._send_update(update, *args))

    async def _send_update(self, update: Any, *args: Any) -> Any:
        if update is TaskQueueWorkflow.drain:  # waits for tasks: a slot could starve producers
            return await self.handle.execute_update(update, *args)
        async with self._slot():
            return await self.handle.execute_update(update, *args)

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

    async def exists(self) -> bool:
        try:
            await self.handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True

    # -- errors ------------------------------------------------------------------

    async def _call(self, call: Callable[[], Awaitable[T]]) -> T:
        delay = BUSY_BACKOFF[0]
        for attempt in range(BUSY_RETRIES):
            try:
                return await call()
            except WorkflowUpdateFailedError as err:
                raise UserError(failure_text(err.cause)) from None
            except WorkflowQueryFailedError as err:
                raise UserError(f"queue {self.name!r}: {err}") from None
            except RPCError as err:
                if err.status == RPCStatusCode.NOT_FOUND:
                    raise UserError(
                        f"queue {self.name!r} does not exist yet; enqueue a task to create it"
                    ) from None
                if err.status != RPCStatusCode.RESOURCE_EXHAUSTED or attempt == BUSY_RETRIES - 1:
                    raise
            await asyncio.sleep(delay)
            delay = min(delay * 2, BUSY_BACKOFF[1])
        raise AssertionError("unreachable")
