"""The queue's commands: what operators do to tasks and to the queue, and drains.

:class:`TaskQueueWorkflow` inherits these handlers; they work on its state only.
Every command is applied once: the same update re-sent (a client retrying across
continue-as-new) gets the first answer and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from taskrunner.errors import rejected
    from taskrunner.observability.metrics import CANCELLED, QueueMetrics
    from taskrunner.queue.budget import CONTINUE_AS_NEW_LIMIT
    from taskrunner.queue.models import (
        CommandResult,
        DrainRef,
        DrainRequest,
        DrainResult,
        ListTasks,
        QueueConfig,
        QueueInput,
        QueueStats,
        TaskRecord,
        TaskRef,
        TaskStatus,
    )
    from taskrunner.queue.queries import list_tasks, queue_stats
    from taskrunner.queue.state import QueueState


class QueueCommands:
    _config: QueueConfig
    _state: QueueState
    _metrics: QueueMetrics
    _run_number: int

    def _resent(self) -> bool:
        """True for an update this queue applied already (re-sent across continue-as-new)."""
        update = workflow.current_update_info()
        return update is not None and update.id in self._state.applied

    def _remember(self, task_ids: list[str], created: int = 0) -> None:
        update = workflow.current_update_info()
        if update is not None:
            self._state.applied.remember(update.id, task_ids, created)

    def _once(self, apply: Callable[[], list[str]]) -> list[str]:
        """Apply a command once: the same update re-sent (across continue-as-new) is answered
        with the task ids it touched the first time, and changes nothing."""
        update = workflow.current_update_info()
        if self._resent() and update is not None:
            return self._state.applied.answer(update.id)[0]
        task_ids = apply()
        self._remember(task_ids)
        return task_ids

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
        self._once(lambda: [self._cancel(ref.task_id)])
        return CommandResult(message=f"task {ref.task_id} cancelled", task_ids=[ref.task_id])

    def _cancel(self, task_id: str) -> str:
        record = self._state.cancel(task_id, workflow.now())
        self._metrics.count(record.type, CANCELLED)
        return record.id

    @cancel.validator
    def _check_cancel(self, ref: TaskRef) -> None:
        self._require(ref.task_id, TaskStatus.PENDING, "cancelled")

    @workflow.update
    def retry(self, ref: TaskRef) -> CommandResult:
        self._once(lambda: [self._state.retry(ref.task_id).id])
        return CommandResult(message=f"task {ref.task_id} queued again", task_ids=[ref.task_id])

    @retry.validator
    def _check_retry(self, ref: TaskRef) -> None:
        self._require(ref.task_id, TaskStatus.FAILED, "retried")

    @workflow.update
    def retry_all(self) -> CommandResult:
        ids = self._once(lambda: [self._state.retry(i).id for i in self._state.failed_ids()])
        return CommandResult(message=f"{len(ids)} failed task(s) queued again", task_ids=ids)

    @workflow.update
    def purge(self) -> CommandResult:
        ids = self._once(self._state.purge_failed)
        return CommandResult(message=f"{len(ids)} failed task(s) purged", task_ids=ids)

    @workflow.update
    def pause(self) -> CommandResult:
        self._once(lambda: self._set_paused(True))
        return CommandResult(message=f"queue {self._config.name!r} paused")

    @workflow.update
    def resume(self) -> CommandResult:
        self._once(lambda: self._set_paused(False))
        return CommandResult(message=f"queue {self._config.name!r} resumed")

    def _set_paused(self, paused: bool) -> list[str]:
        self._state.paused = paused
        return []

    @workflow.update
    def drain(self, request: DrainRequest) -> DrainResult:
        """Begin a drain of what is pending or running now; read it with ``drain_status``.

        The update returns at once: a caller waits by querying, so a waiting drain never
        takes one of the server's in-flight update slots from producers.
        """
        update = workflow.current_update_info()
        drain_id = update.id if update is not None else workflow.uuid4().hex
        if drain_id not in self._state.drains.active:  # a re-sent update continues the drain
            self._state.drains.start(drain_id, self._state.next_seq - 1, request, workflow.now())
        status = self._drain_status(DrainRef(drain_id=drain_id))
        assert status is not None
        return status

    @workflow.query
    def drain_status(self, ref: DrainRef) -> DrainResult | None:
        """Where a drain stands (None: no such drain, or forgotten two hours after it began)."""
        return self._drain_status(ref)

    def _drain_status(self, ref: DrainRef) -> DrainResult | None:
        return self._state.drains.status(
            ref.drain_id, self._state.tasks.values(), workflow.now(), self._state.paused
        )

    # -- queries (the workflow's, on its state) --------------------------------------

    @workflow.query
    def stats(self) -> QueueStats:
        return queue_stats(self._state, self._config.name, self._run_number)

    @workflow.query
    def list_tasks(self, request: ListTasks) -> list[TaskRecord]:
        return list_tasks(self._state, request.status, request.limit)

    @workflow.query
    def task(self, ref: TaskRef) -> TaskRecord | None:
        return self._state.get(ref.task_id)

    @workflow.query
    def recovery(self) -> QueueInput:
        """What a new run needs to carry on from this one's state (``queue recover``).

        Asked of a closed run (a query replays its history), tasks it had running are
        pending again: their attempt was cut short.
        """
        return QueueInput(
            config=self._config,
            snapshot=self._state.recovery_snapshot(CONTINUE_AS_NEW_LIMIT),
            run_number=self._run_number + 1,
        )
