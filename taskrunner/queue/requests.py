"""What one request to a queue workflow may carry, and what its rejection says.

Shared by QueueClient's enqueue paths: requests are split so none exceeds what
Temporal accepts, and a rejected update becomes one line naming the task.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.exceptions import ApplicationError

from taskrunner.errors import UserError
from taskrunner.queue.budget import json_size
from taskrunner.queue.models import TaskSpec

MAX_REQUEST_BYTES = 1_500_000
"""Largest update sent at once: Temporal refuses requests over about 2 MB (gRPC and blob
limits), with an error that says nothing about the task (or one that looks like "busy")."""


def request_size(spec: TaskSpec) -> int:
    return json_size(spec.model_dump(mode="json"))


def too_big(size: int) -> str:
    return (
        f"task of {size} bytes is over the {MAX_REQUEST_BYTES} bytes one request to Temporal "
        "may carry; put large data in a file or URL and pass its location"
    )


def chunk_ranges(specs: Sequence[TaskSpec], batch_size: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each update: at most ``batch_size`` tasks and MAX_REQUEST_BYTES."""
    chunks: list[tuple[int, int]] = []
    start, total = 0, 0
    for index, spec in enumerate(specs):
        size = request_size(spec)
        if size > MAX_REQUEST_BYTES:
            raise UserError(f"task {index}: {too_big(size)}")
        if index > start and (index - start >= batch_size or total + size > MAX_REQUEST_BYTES):
            chunks.append((start, index))
            start, total = index, 0
        total += size
    if start < len(specs):
        chunks.append((start, len(specs)))
    return chunks


def failure_text(cause: BaseException | None) -> str:
    if isinstance(cause, ApplicationError):
        inner = cause.cause
        if cause.message.endswith("Failed decoding arguments") and inner is not None:
            # The request did not match the update's model (a client other than this
            # one): say what pydantic found, on one line.
            detail = inner.message if isinstance(inner, ApplicationError) else str(inner)
            lines = [ln.strip() for ln in detail.splitlines() if ln.strip()]
            lines = [ln for ln in lines if not ln.startswith("For further information")]
            return "malformed request: " + "; ".join(lines)
        return cause.message
    return str(cause) if cause is not None else "the queue rejected the request"


def shift_index(message: str, offset: int) -> str:
    """Turn ``task 3: ...`` of one chunk into the index in the caller's whole batch."""
    if offset and message.startswith("task "):
        head, _, rest = message[5:].partition(":")
        if head.isdigit():
            return f"task {int(head) + offset}:{rest}"
    return message
