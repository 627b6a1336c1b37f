"""The runner's half of each peer figure: the same loads, timed the same way.

Timing is from the first enqueue (QueueClient.enqueue_batch) until the queue's
drain reports every task done, as a client of the runner learns it. Each run gets
its own worker and queue, warmed up first with a few no-op tasks on another queue
(the Celery side warms its pool up too).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench.harness import Server
from bench.long_run import run_sizes
from bench.noop_task import FAST_NOOP_TYPE
from bench.peer.celery_side import email_fields
from bench.peer.smtp_sink import smtp_sink
from bench.queue_setup import queue_client, queue_worker, specs
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec
from taskrunner.settings import Settings

WARM_UP_TASKS = 10


@dataclass
class QueueRun:
    per_second: float
    events_per_task: float
    """History events of every run of the queue workflow, divided by the tasks."""


def _queue(server: Server, settings: Settings) -> QueueClient:
    return queue_client(server, settings, f"bench-peer-{uuid.uuid4().hex[:8]}")


async def _timed(server: Server, settings: Settings, todo: list[TaskSpec]) -> QueueRun:
    warm = _queue(server, settings)
    await warm.enqueue_batch(specs(WARM_UP_TASKS))
    await warm.drain(max_outcomes=0, through_retries=True)
    client = _queue(server, settings)
    started = time.perf_counter()
    await client.enqueue_batch(todo)
    result = await client.drain(max_outcomes=0, through_retries=True)
    elapsed = time.perf_counter() - started
    stats = await client.stats()
    assert result.done and stats.completed == len(todo), stats
    lengths, _ = await run_sizes(server, client.workflow_id)
    return QueueRun(len(todo) / elapsed, sum(lengths) / len(todo))


def email_payload(index: int) -> dict[str, str]:
    recipient, subject, body = email_fields(index)
    return {"recipient": recipient, "subject": subject, "body": body}


async def queue_noop(
    server: Server, tasks: int, concurrency: int, task_type: str = FAST_NOOP_TYPE
) -> QueueRun:
    """``tasks`` no-op tasks through one queue of max_concurrency ``concurrency``, on the
    fast path (bundled) by default."""
    async with queue_worker(server, max_concurrency=concurrency) as settings:
        return await _timed(server, settings, specs(tasks, task_type))


async def queue_emails(server: Server, emails: int, concurrency: int, log_dir: Path) -> QueueRun:
    """``emails`` built-in ``email`` tasks, sent by SMTP to a local sink that counts them."""
    with smtp_sink(log_dir) as sink:
        smtp = {"host": sink.host, "port": sink.port}
        todo = [TaskSpec(type="email", payload=email_payload(i)) for i in range(emails)]
        async with queue_worker(
            server, overrides={"smtp": smtp}, max_concurrency=concurrency
        ) as settings:
            run = await _timed(server, settings, todo)
        received = sink.count()
    assert received == emails, f"the SMTP sink received {received} of {emails} emails"
    return run
