"""What may enter the queue: the enqueue validators' rules.

Validators run when a request arrives and never on replay, so they may consult the
worker's current task types (see worker_context).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from taskrunner.errors import one_line, rejected
from taskrunner.queue.budget import json_size, request_growth
from taskrunner.queue.models import QueueConfig, TaskSpec
from taskrunner.queue.state import QueueState
from taskrunner.sizes import human_size
from taskrunner.tasks.registry import TaskRegistry


def check_spec(
    spec: TaskSpec,
    config: QueueConfig,
    task_types: TaskRegistry,
    context: dict[str, Any] | None = None,
) -> None:
    """Raise a rejection when the type is unknown or the payload does not fit its model
    (validated with ``context``: what the worker's settings declare, e.g. report names)."""
    if not isinstance(spec, TaskSpec):
        # A null argument from a client that skips the model (decoding lets None through).
        raise rejected("malformed request: a task needs at least a 'type'")
    task_type = task_types.get(spec.type)
    if task_type is None:
        raise rejected(f"unknown task type {spec.type!r} (known types: {task_types.names()})")
    try:
        task_type.payload.model_validate(spec.payload, context=context)
    except ValidationError as err:
        raise rejected(f"invalid payload for task type {spec.type!r}: {one_line(err)}") from None
    size = json_size(spec.payload)
    if size > config.max_payload_bytes:
        raise rejected(
            f"payload of {size} bytes is over the queue's limit of {config.max_payload_bytes}; "
            "put large data in a file or URL and pass its location"
        )


def check_room(active: int, adding: int, config: QueueConfig) -> None:
    """Reject a request that would take the queue over its pending + running limit."""
    if active + adding > config.max_active_tasks:
        raise rejected(
            f"queue {config.name!r} is full ({config.max_active_tasks} pending or running "
            "tasks); retry later or shard the work over more queues"
        )


def check_budget(state: QueueState, specs: Sequence[TaskSpec], now: datetime) -> None:
    """Reject a request whose tasks could take the state over the queue's budget."""
    config = state.config
    incoming = request_growth(specs)
    if state.budget.fits(incoming, config, lambda: _sizes(state), now):
        return
    raise rejected(
        f"queue {config.name!r} holds {human_size(state.budget.bound)} of its "
        f"{human_size(config.state_budget_bytes)} state budget "
        f"({state.active_count()} pending or running tasks) and this request needs about "
        f"{human_size(incoming)} more; wait for tasks to finish, shard the work over more "
        "queues, or pass large data as a file or URL"
    )


def _sizes(state: QueueState) -> tuple[int, int]:
    encoded, raw = state.measure()
    return len(encoded), raw
