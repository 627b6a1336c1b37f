"""One attempt of one task: run its type's activity and record how it ended.

Workflow code (it calls activities and reads workflow time); the queue workflow
runs one of these per started task.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from taskrunner.notifications.models import Priority
    from taskrunner.notifications.notify import notify
    from taskrunner.queue.admission import (
        error_text,
        known_types,
        retry_delay,
    )
    from taskrunner.queue.models import TaskRecord
    from taskrunner.queue.state import QueueState
    from taskrunner.tasks.registry import TASK_TYPES, TaskActivityInput, TaskResult

ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)
"""Each activity execution is one attempt; the queue schedules retries itself (see README)."""


async def run_attempt(state: QueueState, record: TaskRecord, source: str) -> bool:
    """Run the attempt ``record`` was started for. True when it was put back to retry later."""
    round_attempt = record.attempts - record.round_start
    workflow.logger.info(
        "Processing task %s (%s) - Attempt %d", record.id, record.type, round_attempt
    )
    task_type = TASK_TYPES.get(record.type)
    if task_type is None:
        # Only an older version could have let it in: fail it, never retry it.
        message = f"unknown task type {record.type!r} (this worker knows: {known_types()})"
        await _failed(state, record, message, round_attempt, source)
        return False
    try:
        result = await workflow.execute_activity(
            task_type.activity,
            TaskActivityInput(
                task_id=record.id, attempt_offset=record.attempts - 1, payload=record.payload
            ),
            result_type=TaskResult,
            activity_id=f"{record.id}-{record.attempts}",
            start_to_close_timeout=task_type.start_to_close_timeout,
            heartbeat_timeout=task_type.heartbeat_timeout,
            retry_policy=ONE_ATTEMPT,
        )
    except ActivityError as err:
        delay = retry_delay(task_type.retry_policy, round_attempt, err)
        if delay is None:
            await _failed(state, record, error_text(err), round_attempt, source)
            return False
        workflow.logger.info("Retrying task %s in %s: %s", record.id, delay, err)
        state.retry_later(record, error_text(err), workflow.now() + delay)
        return True
    state.complete(record, result.summary, result.details, workflow.now())
    workflow.logger.info("✓ Task %s completed", record.id)
    return False


async def _failed(
    state: QueueState, record: TaskRecord, message: str, attempts: int, source: str
) -> None:
    state.fail(record, message, workflow.now())
    workflow.logger.warning("✗ Task %s failed: %s", record.id, message)
    await notify(
        f"Task {record.id} failed after {attempts} attempts: {message}",
        Priority.ERROR,
        source,
        task_id=record.id,
        task_type=record.type,
    )
