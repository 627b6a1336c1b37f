"""One attempt of one task, and whether and when a failed attempt is tried again.

The queue runs each attempt as one activity execution (no Temporal retries) and
schedules the next attempt itself from the retry policy captured when the task was
enqueued: a retrying task holds no concurrency slot while it waits.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from taskrunner.errors import INVALID_TASK
    from taskrunner.notifications.models import Priority
    from taskrunner.notifications.notify import notify
    from taskrunner.queue.models import TaskRecord
    from taskrunner.queue.state import QueueState
    from taskrunner.tasks.registry import TaskActivityInput, TaskResult

ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)
"""Each activity execution is one attempt; the queue schedules retries itself (see README)."""


async def run_attempt(state: QueueState, record: TaskRecord, source: str) -> bool:
    """Run the attempt ``record`` was started for. True when it was put back to retry later."""
    round_attempt = record.round_attempts
    workflow.logger.info(
        "Processing task %s (%s) - Attempt %d", record.id, record.type, round_attempt
    )
    execution = state.executions[record.execution]
    try:
        result = await workflow.execute_activity(
            execution.activity,
            TaskActivityInput(
                task_id=record.id, attempt_offset=record.attempts - 1, payload=record.spec.payload
            ),
            result_type=TaskResult,
            activity_id=f"{record.id}-{record.attempts}",
            start_to_close_timeout=execution.start_to_close_timeout,
            heartbeat_timeout=execution.heartbeat_timeout,
            retry_policy=ONE_ATTEMPT,
        )
    except ActivityError as err:
        delay = retry_delay(execution.retry_policy, round_attempt, err)
        if delay is None:
            await _failed(state, record, error_text(err), round_attempt, source)
            return False
        workflow.logger.info("Retrying task %s in %s: %s", record.id, delay, err)
        state.retry_later(record, error_text(err), workflow.now() + delay)
        return True
    state.complete(record, result, workflow.now())
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


def retry_delay(policy: RetryPolicy, round_attempts: int, err: BaseException) -> timedelta | None:
    """How long to wait before the next attempt, or None when the task has failed for good.

    Follows Temporal's own activity retry rules: maximum attempts, non-retryable
    error types and flags, exponential backoff capped by ``maximum_interval``, and
    an activity's ``next_retry_delay`` override.
    """
    cause = err.cause if isinstance(err, ActivityError) else err
    never_retried = policy.non_retryable_error_types or ()
    if isinstance(cause, ApplicationError) and (cause.non_retryable or cause.type in never_retried):
        return None
    if policy.maximum_attempts and round_attempts >= policy.maximum_attempts:
        return None
    if isinstance(cause, ApplicationError) and cause.next_retry_delay is not None:
        return cause.next_retry_delay
    delay = policy.initial_interval * (policy.backoff_coefficient ** (round_attempts - 1))
    maximum = policy.maximum_interval or policy.initial_interval * 100
    return min(delay, maximum)


def error_text(err: BaseException) -> str:
    """The innermost useful message of an activity failure."""
    cause: BaseException | None = err
    while isinstance(cause, ActivityError) and cause.cause is not None:
        cause = cause.cause
    if cause is None:
        return str(err)
    if isinstance(cause, TimeoutError):
        # Its ``type`` is a TimeoutType enum: "1: Timeout" would say nothing.
        kind_name = cause.type.name if cause.type is not None else "UNKNOWN"
        return f"activity timed out ({kind_name} timeout)"
    message = getattr(cause, "message", None) or str(cause) or type(cause).__name__
    kind = getattr(cause, "type", None)
    if kind and kind not in {"Exception", INVALID_TASK}:
        return f"{kind}: {message}"
    return str(message)
