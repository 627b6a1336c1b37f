"""TaskQueueWorkflow: one durable queue per workflow.

Producers enqueue with validated updates; the run loop starts due tasks up to
``max_concurrency`` at once, each as the activity captured for it at enqueue;
commands and queries work on the state while it runs. When history grows long the
queue stops starting tasks, lets running ones finish, and continues as new with
its state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from taskrunner.errors import rejected
    from taskrunner.queue.admission import check_room, check_spec
    from taskrunner.queue.models import (
        BatchEnqueued,
        CommandResult,
        DrainRequest,
        DrainResult,
        EnqueueBatch,
        Enqueued,
        ListTasks,
        QueueInput,
        QueueStats,
        TaskRecord,
        TaskRef,
        TaskSpec,
        TaskStatus,
        queue_workflow_id,
    )
    from taskrunner.queue.queries import list_tasks, queue_stats
    from taskrunner.queue.retries import run_attempt
    from taskrunner.queue.state import QueueState
    from taskrunner.queue.worker_context import TaskTypeResolver, current_task_types
    from taskrunner.tasks.registry import TaskExecution


@workflow.defn
class TaskQueueWorkflow:
    @workflow.init
    def __init__(self, params: QueueInput) -> None:
        self._config = params.config
        self._run_number = params.run_number
        self._state = (
            QueueState.from_snapshot(params.config, params.snapshot)
            if params.snapshot
            else QueueState(params.config)
        )
        self._task_types = TaskTypeResolver()
        self._source = queue_workflow_id(params.config.name)
        self._busy = 0
        """Task coroutines still running (activity, then maybe a notification)."""
        self._stopping = False
        self._timer_at: datetime | None = None
        self._children: set[asyncio.Task[None]] = set()
        """Task runs and timers in flight (a reference keeps them from being collected)."""

    @workflow.run
    async def run(self, params: QueueInput) -> None:
        self._arm_timer()  # for delayed tasks carried over from the previous run
        while not self._continue_as_new_due():
            self._arm_timer()
            await workflow.wait_condition(self._work_or_stop)
            await self._start_due_tasks()
        # Continue as new: nothing new starts, running tasks finish, handlers return.
        self._stopping = True
        await workflow.wait_condition(lambda: self._busy == 0)
        await workflow.wait_condition(workflow.all_handlers_finished)
        workflow.continue_as_new(
            QueueInput(
                config=self._config,
                snapshot=self._state.to_snapshot(),
                run_number=self._run_number + 1,
            )
        )

    # -- the processing loop ---------------------------------------------------

    def _continue_as_new_due(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._config.history_threshold
        )

    def _can_start(self) -> bool:
        return (
            not self._state.paused
            and self._state.running < self._config.max_concurrency
            and self._state.has_ready(workflow.now())
        )

    def _work_or_stop(self) -> bool:
        return self._continue_as_new_due() or self._can_start()

    def _arm_timer(self) -> None:
        """One durable timer for the earliest delayed task (never one per loop turn)."""
        wake = self._state.next_wake()
        if wake is None or (self._timer_at is not None and self._timer_at <= wake):
            return
        self._timer_at = wake
        self._spawn(self._sleep_until(wake))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        child = asyncio.create_task(coroutine)
        self._children.add(child)
        child.add_done_callback(self._children.discard)

    async def _sleep_until(self, at: datetime) -> None:
        await workflow.sleep(max(at - workflow.now(), timedelta(milliseconds=1)))
        if self._timer_at == at:
            self._timer_at = None
            self._arm_timer()  # for the next delayed task, if any

    async def _start_due_tasks(self) -> None:
        interval = timedelta(milliseconds=self._config.start_interval_ms)
        while self._can_start() and not self._continue_as_new_due():
            record = self._state.start_next(workflow.now())
            if record is None:
                return
            self._busy += 1
            self._spawn(self._run_task(record))
            if interval:
                await workflow.sleep(interval)  # a durable timer between two starts

    async def _run_task(self, record: TaskRecord) -> None:
        try:
            if await run_attempt(self._state, record, self._source):
                self._arm_timer()  # it retries after a backoff: wake up for it
        finally:
            self._busy -= 1

    # -- enqueue -----------------------------------------------------------------

    @workflow.update
    async def enqueue(self, spec: TaskSpec) -> Enqueued:
        ids, created = await self._enqueue([spec])
        return Enqueued(task_id=ids[0], created=created == 1)

    @enqueue.validator
    def _check_enqueue(self, spec: TaskSpec) -> None:
        check_room(self._state.active_count(), 1, self._config)
        check_spec(spec, self._config, current_task_types())

    @workflow.update
    async def enqueue_batch(self, batch: EnqueueBatch) -> BatchEnqueued:
        ids, created = await self._enqueue(batch.tasks)
        return BatchEnqueued(task_ids=ids, created=created)

    @enqueue_batch.validator
    def _check_batch(self, batch: EnqueueBatch) -> None:
        check_room(self._state.active_count(), len(batch.tasks), self._config)
        task_types = current_task_types()
        for index, spec in enumerate(batch.tasks):
            try:
                check_spec(spec, self._config, task_types)
            except Exception as err:
                raise rejected(f"task {index}: {getattr(err, 'message', err)}") from None

    async def _enqueue(self, specs: list[TaskSpec]) -> tuple[list[str], int]:
        update = workflow.current_update_info()
        if self._resent() and update is not None:
            return self._state.applied.answer(update.id)  # the first answer, not new tasks
        # How each type runs is captured now, from history: replays and later workers agree.
        executions = await self._task_types.executions({s.type for s in specs})
        ids = []
        created = 0
        for spec in specs:
            existing = self._state.find_key(spec.key)
            if existing is None:
                existing = self._add(spec, executions[spec.type])
                created += 1
            ids.append(existing)
        self._remember(ids, created)
        return ids, created

    def _resent(self) -> bool:
        """True for an update this queue applied already (re-sent across continue-as-new)."""
        update = workflow.current_update_info()
        return update is not None and update.id in self._state.applied

    def _remember(self, task_ids: list[str], created: int = 0) -> None:
        update = workflow.current_update_info()
        if update is not None:
            self._state.applied.remember(update.id, task_ids, created)

    def _add(self, spec: TaskSpec, execution: TaskExecution) -> str:
        task_id = workflow.uuid4().hex[:12]
        while self._state.get(task_id) is not None:
            task_id = workflow.uuid4().hex[:12]
        self._state.add(spec, task_id, workflow.now(), execution)
        if spec.run_at is not None:
            self._arm_timer()
        return task_id

    # -- commands ----------------------------------------------------------------

    def _require(self, task_id: str, status: TaskStatus, action: str) -> None:
        if self._resent():
            return  # done by this update already (the handler answers the same)
        record = self._state.get(task_id)
        if record is None:
            raise rejected(f"unknown task id {task_id!r} in queue {self._config.name!r}")
        if record.status != status:
            raise rejected(
                f"task {task_id} is {record.status.value}; only {status.value} tasks can be "
                f"{action}"
            )

    @workflow.update
    def cancel(self, ref: TaskRef) -> CommandResult:
        if not self._resent():
            self._state.cancel(ref.task_id, workflow.now())
            self._remember([ref.task_id])
        return CommandResult(message=f"task {ref.task_id} cancelled", task_ids=[ref.task_id])

    @cancel.validator
    def _check_cancel(self, ref: TaskRef) -> None:
        self._require(ref.task_id, TaskStatus.PENDING, "cancelled")

    @workflow.update
    def retry(self, ref: TaskRef) -> CommandResult:
        if not self._resent():
            self._state.retry(ref.task_id)
            self._remember([ref.task_id])
        return CommandResult(message=f"task {ref.task_id} queued again", task_ids=[ref.task_id])

    @retry.validator
    def _check_retry(self, ref: TaskRef) -> None:
        self._require(ref.task_id, TaskStatus.FAILED, "retried")

    @workflow.update
    def retry_all(self) -> CommandResult:
        ids = self._state.failed_ids()
        for task_id in ids:
            self._state.retry(task_id)
        return CommandResult(message=f"{len(ids)} failed task(s) queued again", task_ids=ids)

    @workflow.update
    def purge(self) -> CommandResult:
        ids = self._state.purge_failed()
        return CommandResult(message=f"{len(ids)} failed task(s) purged", task_ids=ids)

    @workflow.update
    def pause(self) -> CommandResult:
        self._state.paused = True
        return CommandResult(message=f"queue {self._config.name!r} paused")

    @workflow.update
    def resume(self) -> CommandResult:
        self._state.paused = False
        return CommandResult(message=f"queue {self._config.name!r} resumed")

    @workflow.update
    async def drain(self, request: DrainRequest) -> DrainResult:
        """Wait until every task pending or running now has finished; say how each ended."""
        up_to = request.up_to_seq if request.up_to_seq is not None else self._state.next_seq - 1
        drain = self._state.drains.start(
            up_to, self._state.active_up_to(up_to), request.max_outcomes
        )
        await workflow.wait_condition(
            lambda: (
                drain.remaining <= 0 or self._state.paused or (self._stopping and self._busy == 0)
            )
        )
        result = self._state.drains.stop(drain)
        result.done = drain.remaining <= 0
        result.paused = self._state.paused and not result.done
        return result

    # -- queries -----------------------------------------------------------------

    @workflow.query
    def stats(self) -> QueueStats:
        return queue_stats(self._state, self._config.name, self._run_number)

    @workflow.query
    def list_tasks(self, request: ListTasks) -> list[TaskRecord]:
        return list_tasks(self._state, request.status, request.limit)

    @workflow.query
    def task(self, ref: TaskRef) -> TaskRecord | None:
        return self._state.get(ref.task_id)
