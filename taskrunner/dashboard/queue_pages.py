"""The queue pages: the queues, one queue's tasks by state, one task; their actions.

Reads and commands go through :class:`QueueClient`, and the enqueue form builds and
checks its task with the functions ``taskrunner enqueue`` uses (``taskrunner.queue.specs``):
what the CLI refuses, the form refuses with the same line, and nothing is enqueued.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import time
from collections.abc import Awaitable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from temporalio.client import Client

from taskrunner.dashboard.app import answer_or_error, ask, dashboard_of, not_found
from taskrunner.errors import UserError
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import (
    QUEUE_NAME_PATTERN,
    CommandResult,
    QueueStats,
    TaskRecord,
    TaskStatus,
)
from taskrunner.queue.specs import check_payload, new_spec, parse_run_at, payload_object
from taskrunner.settings import Settings
from taskrunner.status.collect import worker_facts
from taskrunner.status.models import QueueFact
from taskrunner.status.queues import queue_facts, queue_names

WORKER_WAIT_SECONDS = 3.0
"""How long a command looks for a worker to take it before it is refused (nothing is sent
that would wait for one, and then run unseen when one comes)."""
WORKER_POLL_SECONDS = 0.25
LIST_LIMIT = 100
"""Tasks listed per state on a queue page (its counters count them all)."""
FORM_FIELDS = {"type": "task type", "payload": "payload", "run_at": "run at"}
"""How the enqueue form's fields are named in its errors (others by their own name)."""
QUEUE_ACTIONS = {
    "pause": QueueClient.pause,
    "resume": QueueClient.resume,
    "retry-all": QueueClient.retry_all,
    "purge": QueueClient.purge,
}
TASK_ACTIONS = {"retry": QueueClient.retry, "cancel": QueueClient.cancel}


def _queue(request: Request) -> QueueClient | None:
    name = request.path_params["name"]
    if not re.fullmatch(QUEUE_NAME_PATTERN, name):
        return None
    dashboard = dashboard_of(request)
    return QueueClient(dashboard.client, dashboard.settings, name)


async def queues_page(request: Request) -> Response:
    """The queues ``taskrunner status`` finds, with their counts, asked as it asks them."""
    dashboard = dashboard_of(request)
    facts, error = await answer_or_error(_queue_facts(dashboard.client, dashboard.settings))
    return dashboard.page(request, "queues.html", queues=facts or [], error=error)


async def _queue_facts(client: Client, settings: Settings) -> list[QueueFact]:
    names = await queue_names(client, settings)
    served = any("workflow" in w.polls for w in await worker_facts(client, settings))
    return await queue_facts(client, settings, names, served, datetime.now(UTC))


async def require_worker(client: Client, settings: Settings, wait: float = 0.0) -> None:
    """Refuse, in one line, when no worker polls the runner's workflows: a queue's query
    or command would wait for one (``taskrunner dashboard`` runs none of its own).

    ``wait``: seconds to look again first (a worker that has just started is listed by
    the server once it has polled)."""
    deadline = time.monotonic() + wait
    while not any("workflow" in w.polls for w in await worker_facts(client, settings)):
        if time.monotonic() >= deadline:
            raise UserError(
                f"no worker polls task queue {settings.task_queue!r} to answer "
                "(start taskrunner run or taskrunner worker)"
            )
        await asyncio.sleep(WORKER_POLL_SECONDS)


async def queue_page(request: Request) -> Response:
    queue = _queue(request)
    if queue is None:
        return not_found(request, f"{request.path_params['name']!r} is not a queue name")
    dashboard = dashboard_of(request)

    async def read() -> tuple[QueueStats, dict[str, list[TaskRecord]]]:
        await require_worker(dashboard.client, dashboard.settings)
        stats = await queue.stats()
        states = (TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.FAILED)
        pending, running, failed = await asyncio.gather(
            *(queue.list(s, LIST_LIMIT) for s in states)
        )
        return stats, by_state(pending, running, failed, datetime.now(UTC))

    found, error = await answer_or_error(read())
    stats, listed = found or (None, {})
    return dashboard.page(
        request,
        "queue.html",
        queue=queue.name,
        stats=stats,
        error=error,
        listed=listed,
        limit=LIST_LIMIT,
        queue_url=dashboard.workflow_url(queue.workflow_id),
    )


def by_state(
    pending: list[TaskRecord], running: list[TaskRecord], failed: list[TaskRecord], now: datetime
) -> dict[str, list[TaskRecord]]:
    """The tasks as the queue page shows them: pending ones due now apart from those that
    wait for a later time (their run-at, or a retry's backoff)."""
    later = [t for t in pending if t.due_at is not None and t.due_at > now]
    return {
        "pending": [t for t in pending if t not in later],
        "scheduled": later,
        "running": running,
        "failed": failed,
    }


async def task_page(request: Request) -> Response:
    queue = _queue(request)
    if queue is None:
        return not_found(request, f"{request.path_params['name']!r} is not a queue name")
    dashboard = dashboard_of(request)

    async def read() -> TaskRecord:
        await require_worker(dashboard.client, dashboard.settings)
        return await queue.show(request.path_params["task_id"])

    task, error = await answer_or_error(read())
    return dashboard.page(
        request,
        "task.html",
        queue=queue.name,
        task_id=request.path_params["task_id"],
        task=task,
        error=error,
        queue_url=dashboard.workflow_url(queue.workflow_id),
    )


async def queue_action(request: Request) -> Response:
    queue = _queue(request)
    action = QUEUE_ACTIONS.get(request.path_params["action"])
    if queue is None or action is None:
        return not_found(request, f"no such queue action: {request.url.path}")
    return await _command(request, action(queue))


async def task_action(request: Request) -> Response:
    queue = _queue(request)
    action = TASK_ACTIONS.get(request.path_params["action"])
    if queue is None or action is None:
        return not_found(request, f"no such task action: {request.url.path}")
    return await _command(request, action(queue, request.path_params["task_id"]))


async def _command(request: Request, command: Awaitable[CommandResult]) -> Response:
    """Send a queue command (once a worker is there to take it); its one line."""
    dashboard = dashboard_of(request)
    try:
        await ask(require_worker(dashboard.client, dashboard.settings, WORKER_WAIT_SECONDS))
        result = await ask(command)
    except UserError as err:
        if inspect.iscoroutine(command):
            command.close()  # never sent
        return dashboard.said(request, str(err), ok=False)
    return dashboard.said(request, result.message)


async def enqueue(request: Request) -> Response:
    """The enqueue form: the CLI's rules, its one-line errors, nothing enqueued on one."""
    queue = _queue(request)
    if queue is None:
        return not_found(request, f"{request.path_params['name']!r} is not a queue name")
    dashboard = dashboard_of(request)
    settings = dashboard.settings
    form = await request.form()

    def field(name: str) -> str | None:
        value = form.get(name)
        return value.strip() or None if isinstance(value, str) else None

    try:
        spec = new_spec(
            lambda loc: FORM_FIELDS.get(str(loc[0]), str(loc[0])),
            type=field("type") or "",
            payload=payload_object(field("payload") or "{}", "payload"),
            priority=field("priority") or 0,
            run_at=parse_run_at(field("run_at"), settings.timezone, "run at"),
            key=field("key"),
        )
        if not spec.type:
            raise UserError("a task type is needed, e.g. email")
        check_payload(spec, settings, queue.name)
        await ask(require_worker(dashboard.client, settings, WORKER_WAIT_SECONDS))
        result = await ask(queue.enqueue(spec))
    except UserError as err:
        return dashboard.said(request, str(err), ok=False)
    verb = "Enqueued" if result.created else "Already enqueued (same key):"
    message = f"{verb} task {result.task_id} ({spec.type}) on queue {queue.name}"
    if result.created and spec.run_at is not None and spec.run_at <= datetime.now(UTC):
        message += "; its run-at time is past: it runs now"
    return dashboard.said(request, message)


def routes() -> list[BaseRoute]:
    return [
        Route("/queues", queues_page, name="queues"),
        Route("/queues/{name}", queue_page, name="queue"),
        Route("/queues/{name}/enqueue", enqueue, methods=["POST"]),
        Route("/queues/{name}/tasks/{task_id}", task_page, name="task"),
        Route("/queues/{name}/tasks/{task_id}/{action}", task_action, methods=["POST"]),
        Route("/queues/{name}/{action}", queue_action, methods=["POST"]),
    ]
