"""A task to enqueue, built from what a person typed: the CLI's options, the dashboard's form.

Both go through these functions, so a payload, a priority or a run-at time the CLI
refuses is refused by the dashboard with the same one line, before any server is asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from taskrunner.errors import UserError, one_line
from taskrunner.queue.models import TaskSpec
from taskrunner.settings import Settings


def payload_object(text: str, what: str) -> dict[str, Any]:
    """``text`` as a JSON object (``what`` names it in the error), or a one-line UserError."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise UserError(f"{what} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise UserError(f'{what} must be a JSON object, e.g. \'{{"recipient": "a@b.c"}}\'')
    return data


def parse_run_at(text: str | None, timezone: str, what: str = "--run-at") -> datetime | None:
    """An ISO date-time; without an offset, in ``timezone`` (the settings' zone)."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(
            f"{what} {text!r} is not an ISO date-time (e.g. 2030-01-31T09:00 or ...Z)"
        ) from None
    return when if when.tzinfo is not None else when.replace(tzinfo=ZoneInfo(timezone))


def new_spec(name: Callable[[Sequence[str | int]], str], **fields: Any) -> TaskSpec:
    """A :class:`TaskSpec` of ``fields``; a bad one is a UserError naming the first bad
    field as ``name`` calls it (``--run-at`` on the command line)."""
    try:
        return TaskSpec(**fields)
    except ValidationError as err:
        raise UserError(f"invalid {one_line(err, name, first_only=True)}") from None


def check_payload(spec: TaskSpec, settings: Settings, queue: str | None) -> None:
    """Refuse a bad payload here, in one line, before any server is involved: the queue's
    own enqueue rule (``check_spec``) with this process's task types and settings (the
    declared report names). A type this process does not know belongs to the worker,
    which checks it at enqueue."""
    # Here, not at the top: the task modules (PDF, database drivers) load slowly.
    from taskrunner.queue.admission import check_spec
    from taskrunner.tasks.builtin import payload_context
    from taskrunner.tasks.loading import task_registry

    task_types = task_registry(settings)
    if spec.type not in task_types:
        return
    config = settings.queue.config(queue)
    try:
        check_spec(spec, config, task_types, payload_context(settings))
    except ApplicationError as err:
        raise UserError(err.message) from None
