"""What may enter the queue, and when a failed attempt is tried again.

Plain functions over the task type registry and a task's retry policy, shared by
the enqueue validator and the processing loop so both see the same registry.
"""

from __future__ import annotations

import json
from datetime import timedelta

from pydantic import ValidationError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

from taskrunner.queue.models import TaskSpec
from taskrunner.tasks.builtin import TASK_TYPES

INVALID_TASK = "InvalidTask"
"""Error type of an update the validator rejects (shown to the user as one line)."""


def reject(message: str) -> ApplicationError:
    return ApplicationError(message, type=INVALID_TASK, non_retryable=True)


def known_types() -> str:
    return ", ".join(sorted(TASK_TYPES)) or "none"


def check_spec(spec: TaskSpec, max_payload_bytes: int) -> None:
    """Raise :func:`reject` when the type is unknown or the payload does not fit its model."""
    if not isinstance(spec, TaskSpec):
        # A null argument from a client that skips the model (decoding lets None through).
        raise reject("malformed request: a task needs at least a 'type'")
    task_type = TASK_TYPES.get(spec.type)
    if task_type is None:
        raise reject(f"unknown task type {spec.type!r} (known types: {known_types()})")
    try:
        task_type.payload_model.model_validate(spec.payload)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(_loc(p) for p in e['loc']) or 'payload'}: {e['msg']}" for e in err.errors()
        )
        raise reject(f"invalid payload for task type {spec.type!r}: {problems}") from None
    size = len(json.dumps(spec.payload, separators=(",", ":")))
    if size > max_payload_bytes:
        raise reject(
            f"payload of {size} bytes is over the queue's limit of {max_payload_bytes}; "
            "put large data in a file or URL and pass its location"
        )


def _loc(part: str | int) -> str:
    """A field name as shown in an error: quoted when it would break the one-line message."""
    text = str(part)
    return text if text.isprintable() else repr(text)


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
