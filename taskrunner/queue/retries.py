"""One attempt of one task, and whether and when a failed attempt is tried again.

The queue runs each attempt as one activity execution (no Temporal retries) and
schedules the next attempt itself from the retry policy captured when the task was
enqueued: a retrying task holds no concurrency slot while it waits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from taskrunner.errors import INVALID_TASK
    from taskrunner.events import attempts, duration, event, first_line
    from taskrunner.observability.metrics import RETRIED
    from taskrunner.observability.task_context import task_extra
    from taskrunner.queue.attempts import DETACH_AFTER, AttemptFailure
    from taskrunner.queue.models import TaskRecord
    from taskrunner.queue.state import QueueState
    from taskrunner.tasks.registry import TaskActivityInput, TaskResult

ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)
"""Each activity execution is one attempt; the queue schedules retries itself (see README)."""

Outcome = TaskResult | AttemptFailure


class Settled(Enum):
    COMPLETED = "completed"
    RETRYING = "retrying"
    """Pending again, due after a backoff."""
    FAILED = "failed"

    @property
    def outcome(self) -> str:
        """Its ``outcome`` in taskrunner_tasks_total."""
        return RETRIED if self is Settled.RETRYING else self.value  # completed, failed


async def run_attempt(state: QueueState, record: TaskRecord) -> Outcome:
    """Run the attempt ``record`` was started for and say how it ended."""
    log_start(state, record)
    execution = state.executions[record.execution]
    try:
        return await workflow.execute_activity(
            execution.activity,
            TaskActivityInput(
                task_id=record.id,
                attempt_offset=record.attempts - 1,
                payload=record.spec.payload,
                detach_at=detach_at(record),
                task_type=record.type,
            ),
            result_type=TaskResult,
            activity_id=f"{record.id}-{record.attempts}",
            start_to_close_timeout=execution.start_to_close_timeout,
            heartbeat_timeout=execution.heartbeat_timeout,
            retry_policy=ONE_ATTEMPT,
        )
    except ActivityError as err:
        return failure_of(err)


def log_start(state: QueueState, record: TaskRecord) -> None:
    workflow.logger.info(
        "Processing task %s (%s) - Attempt %d",
        record.id,
        record.type,
        record.round_attempts,
        extra=about(state, record),
    )


def about(state: QueueState, record: TaskRecord) -> dict[str, Any]:
    """``extra=`` for a log line about ``record``: its task fields (see task_context)."""
    return task_extra(record.id, state.config.name, record.type, record.attempts)


def detach_at(record: TaskRecord) -> datetime:
    assert record.started_at is not None
    return record.started_at + DETACH_AFTER


def settle(state: QueueState, record: TaskRecord, outcome: Outcome, now: datetime) -> Settled:
    """Apply an attempt's outcome: completed, back off for another attempt, or failed."""
    if isinstance(outcome, TaskResult):
        state.complete(record, outcome, now)
        workflow.logger.info("✓ Task %s completed", record.id, extra=about(state, record))
        return Settled.COMPLETED
    policy = state.executions[record.execution].retry_policy
    delay = retry_delay(policy, record.round_attempts, outcome)
    task = f"task {record.id} ({record.type})"
    if delay is None:
        state.fail(record, outcome.message, now)
        line = f"✗ {task} failed after {attempts(record.attempts)}: {first_line(outcome.message)}"
        workflow.logger.warning(line, extra={**event(line), **about(state, record)})
        return Settled.FAILED
    why = first_line(outcome.message)
    line = f"↻ {task} attempt {record.attempts} failed, next in {duration(delay)}: {why}"
    workflow.logger.info(line, extra={**event(line), **about(state, record)})
    state.retry_later(record, outcome.message, now + delay)
    return Settled.RETRYING


def retry_delay(
    policy: RetryPolicy, round_attempts: int, failure: AttemptFailure
) -> timedelta | None:
    """How long to wait before the next attempt, or None when the task has failed for good.

    Follows Temporal's own activity retry rules: maximum attempts, non-retryable
    error types and flags, exponential backoff capped by ``maximum_interval``, and
    an activity's ``next_retry_delay`` override.
    """
    never_retried = policy.non_retryable_error_types or ()
    if failure.non_retryable or (failure.type is not None and failure.type in never_retried):
        return None
    if policy.maximum_attempts and round_attempts >= policy.maximum_attempts:
        return None
    if failure.next_retry_delay is not None:
        return failure.next_retry_delay
    delay = policy.initial_interval * (policy.backoff_coefficient ** (round_attempts - 1))
    maximum = policy.maximum_interval or policy.initial_interval * 100
    return min(delay, maximum)


def failure_of(err: BaseException) -> AttemptFailure:
    """An attempt's failure from what the activity raised (or the queue saw it raise)."""
    cause: BaseException | None = err
    while isinstance(cause, ActivityError) and cause.cause is not None:
        cause = cause.cause
    if cause is None:
        return AttemptFailure(message=str(err))
    if isinstance(cause, TimeoutError):
        # Its ``type`` is a TimeoutType enum: "1: Timeout" would say nothing.
        kind_name = cause.type.name if cause.type is not None else "UNKNOWN"
        return AttemptFailure(message=f"activity timed out ({kind_name} timeout)")
    message = str(getattr(cause, "message", None) or str(cause) or type(cause).__name__)
    if not isinstance(cause, ApplicationError):
        return AttemptFailure(message=message, type=type(cause).__name__)
    kind = cause.type
    text = f"{kind}: {message}" if kind and kind not in {"Exception", INVALID_TASK} else message
    return AttemptFailure(
        message=text,
        type=kind,
        non_retryable=cause.non_retryable,
        next_retry_delay=cause.next_retry_delay,
    )
