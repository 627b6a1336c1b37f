"""Collect :class:`Status`: everything ``taskrunner status`` shows, asked concurrently.

Every part is asked through the same client code as the CLI commands. A part that
fails becomes one line in ``Status.errors`` and the others are still shown; a server
that does not answer is ``server.reachable = False``, never an exception.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import PollerInfo, TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, GetSystemInfoRequest
from temporalio.client import Client

from taskrunner.client import ADDRESS_ENV, connect_config
from taskrunner.errors import UserError
from taskrunner.events import first_line
from taskrunner.notifications.alert_state import AlertState
from taskrunner.settings import Settings
from taskrunner.status.models import AlertFact, QueueFact, ServerFact, Status, WorkerFact
from taskrunner.status.queues import queue_facts, queue_names
from taskrunner.status.runs import last_health, last_maintenance
from taskrunner.status.schedules import job_facts, schedule_facts

T = TypeVar("T")

PART_TIMEOUT_SECONDS = 10.0
"""How long one part (workers, schedules, health, ...) may take before it is an error."""
PING_TIMEOUT = timedelta(seconds=5)
"""How long the server has to answer the reachability check."""
POLLER_KINDS = {
    "workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
}


async def collect_status(
    client: Client | None, settings: Settings, *, unreachable: str | None = None
) -> Status:
    """What the runner is doing now. ``client`` None: the server could not be reached
    (``unreachable`` says why); only what this machine holds (the alerts) is read."""
    now = datetime.now(UTC)
    errors: dict[str, str] = {}
    alerts = asyncio.ensure_future(_part("alerts", open_alerts(settings), errors))
    server = await server_fact(client, settings, unreachable)
    status = Status(collected_at=now, server=server, task_queue=settings.task_queue)
    if client is not None and server.reachable:
        await _collect_from_server(client, settings, status, errors)
    status.alerts = await alerts
    status.errors = errors
    return status


async def _collect_from_server(
    client: Client, settings: Settings, status: Status, errors: dict[str, str]
) -> None:
    workers = asyncio.ensure_future(_part("workers", worker_facts(client, settings), errors))

    async def queues() -> list[QueueFact]:
        names = await queue_names(client, settings)
        served = any("workflow" in w.polls for w in await workers or [])
        return await queue_facts(client, settings, names, served, status.collected_at)

    found = await asyncio.gather(
        workers,
        _part("queues", queues(), errors),
        _part("schedules", schedule_facts(client, settings), errors),
        _part("jobs", job_facts(client, settings), errors),
        _part("health", last_health(client, settings), errors),
        _part("maintenance", last_maintenance(client, settings), errors),
    )
    worker_list, queue_list, schedule_list, job_list, health, maintenance = found
    status.workers = worker_list or []
    status.queues = queue_list or []
    status.schedules = [*(schedule_list or []), *(job_list or [])]
    if health is not None:
        status.health = health.report
        status.health_at = health.finished_at
        status.health_workflow_id = health.workflow_id
    status.maintenance = maintenance or []


async def _part(name: str, work: Awaitable[T], errors: dict[str, str]) -> T | None:
    """``work``'s answer, or None with the reason in ``errors[name]``."""
    try:
        async with asyncio.timeout(PART_TIMEOUT_SECONDS):
            return await work
    except TimeoutError:
        errors[name] = f"no answer within {PART_TIMEOUT_SECONDS:g}s"
    except Exception as err:  # one part's failure is its line, not the status's end
        errors[name] = first_line(str(err) or type(err).__name__)
    return None


def server_address(settings: Settings) -> tuple[str, str]:
    """Where the CLI connects (address, namespace), as ``connect`` would."""
    try:
        config = connect_config(settings)
    except UserError:
        return f"127.0.0.1:{settings.server_port}", settings.namespace
    return str(config["target_host"]), str(config["namespace"])


async def server_fact(client: Client | None, settings: Settings, why: str | None) -> ServerFact:
    """Whether the server answers (a cheap system-info call)."""
    if client is None:
        address, namespace = server_address(settings)
        error = why or f"not connected to Temporal at {address}"
        return ServerFact(address=address, namespace=namespace, reachable=False, error=error)
    address, namespace = client.service_client.config.target_host, client.namespace
    try:
        await client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=PING_TIMEOUT)
    except Exception as err:
        error = (
            f"the Temporal server at {address} does not answer ({first_line(str(err))}); "
            f"check it is running (taskrunner run, or fix {ADDRESS_ENV})"
        )
        return ServerFact(address=address, namespace=namespace, reachable=False, error=error)
    return ServerFact(address=address, namespace=namespace, reachable=True)


async def worker_facts(client: Client, settings: Settings) -> list[WorkerFact]:
    """The pollers of the runner's task queue, by identity, newest seen first."""
    described = await asyncio.gather(
        *(_pollers(client, settings.task_queue, kind) for kind in POLLER_KINDS.values())
    )
    workers: dict[str, WorkerFact] = {}
    for kind, pollers in zip(POLLER_KINDS, described, strict=True):
        for poller in pollers:
            seen = poller.last_access_time.ToDatetime(UTC) if poller.last_access_time else None
            fact = workers.setdefault(poller.identity, WorkerFact(identity=poller.identity))
            fact.polls.append(kind)
            if seen is not None and (fact.last_seen is None or seen > fact.last_seen):
                fact.last_seen = seen
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(
        workers.values(), key=lambda w: (-(w.last_seen or oldest).timestamp(), w.identity)
    )


async def _pollers(
    client: Client, task_queue: str, kind: TaskQueueType.ValueType
) -> list[PollerInfo]:
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=kind,
        ),
        timeout=PING_TIMEOUT,
    )
    return list(described.pollers)


async def open_alerts(settings: Settings) -> list[AlertFact] | None:
    """Open alerts from the notification state file (None: the file is not on this
    machine, say on an operator's laptop while the workers run elsewhere)."""
    path = settings.notifications.state_file(settings.data_dir)
    if not path.is_file():
        return None
    found = await asyncio.to_thread(AlertState(path).active_alerts)
    return [
        AlertFact(
            source=a.source,
            alert=a.alert,
            priority=a.priority.value,
            since=datetime.fromtimestamp(a.since, UTC),
            updated_at=datetime.fromtimestamp(a.updated_at, UTC),
            message=a.message,
        )
        for a in found
    ]
