"""Enqueue: the validated updates producers add tasks with.

:class:`TaskQueueWorkflow` inherits these handlers. Validators run when a request
arrives (never on replay) and refuse what may not enter: an unknown type, a bad
payload, a full queue, a state over its budget. A refused request changes nothing.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from taskrunner.errors import rejected
    from taskrunner.queue.admission import check_budget, check_room, check_spec
    from taskrunner.queue.commands import QueueCommands
    from taskrunner.queue.models import BatchEnqueued, EnqueueBatch, Enqueued, TaskSpec
    from taskrunner.queue.worker_context import (
        TaskTypeResolver,
        current_payload_context,
        current_task_types,
    )
    from taskrunner.tasks.registry import TaskExecution


class QueueEnqueue(QueueCommands):
    _task_types: TaskTypeResolver

    def _arm_timer(self) -> None:
        raise NotImplementedError  # the workflow's: wake up for a delayed task

    @workflow.update
    async def enqueue(self, spec: TaskSpec) -> Enqueued:
        ids, created = await self._enqueue([spec])
        return Enqueued(task_id=ids[0], created=created == 1)

    @enqueue.validator
    def _check_enqueue(self, spec: TaskSpec) -> None:
        check_room(self._state.active_count(), 1, self._config)
        check_spec(spec, self._config, current_task_types(), current_payload_context())
        check_budget(self._state, [spec], workflow.now())

    @workflow.update
    async def enqueue_batch(self, batch: EnqueueBatch) -> BatchEnqueued:
        ids, created = await self._enqueue(batch.tasks)
        return BatchEnqueued(task_ids=ids, created=created)

    @enqueue_batch.validator
    def _check_batch(self, batch: EnqueueBatch) -> None:
        check_room(self._state.active_count(), len(batch.tasks), self._config)
        task_types, context = current_task_types(), current_payload_context()
        for index, spec in enumerate(batch.tasks):
            try:
                check_spec(spec, self._config, task_types, context)
            except Exception as err:
                raise rejected(f"task {index}: {getattr(err, 'message', err)}") from None
        check_budget(self._state, batch.tasks, workflow.now())

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

    def _add(self, spec: TaskSpec, execution: TaskExecution) -> str:
        task_id = workflow.uuid4().hex[:12]
        while self._state.get(task_id) is not None:
            task_id = workflow.uuid4().hex[:12]
        self._state.add(spec, task_id, workflow.now(), execution)
        if spec.run_at is not None:
            self._arm_timer()
        return task_id
