"""The runner's queues for ``taskrunner status``: which exist, their counts and their rate.

Queues are the running ``TaskQueueWorkflow`` executions on the runner's task queue (a
visibility list), plus the settings' default queue. Counts and recent completions come
from the queue's own queries through :class:`QueueClient`, as ``taskrunner queue`` asks.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from temporalio.client import Client

from taskrunner.errors import UserError
from taskrunner.events import first_line
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskRecord, TaskStatus, queue_workflow_id
from taskrunner.queue.workflow import TaskQueueWorkflow
from taskrunner.settings import Settings
from taskrunner.status.models import QueueFact

RATE_WINDOW_MINUTES = 5
"""The rate is tasks completed per minute over this many minutes."""
QUEUE_TIMEOUT_SECONDS = 5.0
"""How long one queue's queries may take (a queue whose worker is gone never answers)."""
MAX_QUEUES = 100
"""Queues listed at most (a runner sharding a queue over more shows the first ones)."""
MAX_LISTED = 10_000
"""Largest listing one query may ask for (the queue's own bound)."""


def running_queues_query(task_queue: str) -> str:
    """The visibility query for the runner's running queue workflows."""
    workflow_type = TaskQueueWorkflow.__name__
    return (
        f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Running' "
        f"AND TaskQueue = '{task_queue}'"
    )


async def queue_names(client: Client, settings: Settings) -> list[str]:
    """The running queues' names, the default queue among them even before it exists."""
    prefix = queue_workflow_id("")
    found = {settings.queue.name}
    query = running_queues_query(settings.task_queue)
    async for execution in client.list_workflows(query, limit=MAX_QUEUES):
        if execution.id.startswith(prefix):
            found.add(execution.id.removeprefix(prefix))
    return sorted(found)


async def queue_facts(
    client: Client, settings: Settings, names: Sequence[str], served: bool, now: datetime
) -> list[QueueFact]:
    """Each queue's counts and rate; ``served``: a worker polls the runner's workflows (a
    query to a queue without one would wait for one)."""
    if not served:
        why = (
            f"no worker polls task queue {settings.task_queue!r} to answer "
            "(start taskrunner run or taskrunner worker)"
        )
        return [QueueFact(name=name, error=why) for name in names]
    return list(await asyncio.gather(*(queue_fact(client, settings, n, now) for n in names)))


async def queue_fact(client: Client, settings: Settings, name: str, now: datetime) -> QueueFact:
    queue = QueueClient(client, settings, name)
    try:
        async with asyncio.timeout(QUEUE_TIMEOUT_SECONDS):
            stats = await queue.stats()
            limit = max(1, min(settings.queue.config(name).recent_limit, MAX_LISTED))
            completed = await queue.list(TaskStatus.COMPLETED, limit) if stats.completed else []
    except TimeoutError:
        why = f"queue {name!r} did not answer within {QUEUE_TIMEOUT_SECONDS:g}s"
        return QueueFact(name=name, error=why)
    except UserError as err:
        return QueueFact(name=name, error=str(err))
    except Exception as err:  # one queue's failure is its line, not the status's end
        return QueueFact(name=name, error=first_line(str(err) or type(err).__name__))
    return QueueFact(
        name=name,
        stats=stats,
        completed_per_minute=completed_rate(completed, stats.completed, now),
        rate_window_minutes=RATE_WINDOW_MINUTES,
    )


def completed_rate(
    recent: Sequence[TaskRecord],
    completed_ever: int,
    now: datetime,
    window: timedelta = timedelta(minutes=RATE_WINDOW_MINUTES),
) -> float:
    """Tasks completed per minute over ``window`` before ``now``.

    ``recent`` is the queue's window of recent completed tasks, bounded by count. When
    it holds fewer tasks than the queue ever completed and all of them finished inside
    ``window``, older ones inside it were forgotten: the rate is then taken over the
    time the window does hold, from its oldest task to ``now``.
    """
    since = now - window
    times = [r.finished_at for r in recent if r.finished_at is not None]
    inside = [t for t in times if t >= since]
    span = window
    forgot = completed_ever > len(times) and len(inside) == len(times)
    if forgot and inside:
        span = max(now - min(inside), timedelta(seconds=1))
    return round(len(inside) / (span.total_seconds() / 60), 2)
