"""``python -m taskrunner.healthcheck``: is a worker on this host polling its task queue?

The container's health check. It asks Temporal (DescribeTaskQueue) which workers polled
the runner's task queue, and exits 0 only when one of them runs on this host and polled
recently; otherwise it prints one line saying what is wrong and exits 1 (Docker reads 1
as "unhealthy" and reserves 2, so every failure is 1). It connects the way the worker
does: the runner's settings, and Temporal's environment configuration (TEMPORAL_*).

The worker keeps the SDK's default identity, ``<pid>@<hostname>``; a container's
hostname is its own, so a poller whose identity ends in ``@<this hostname>`` is this
container's worker.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from dataclasses import dataclass
from datetime import timedelta

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import PollerInfo, TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.service import RPCError

from taskrunner.client import connect
from taskrunner.errors import UserError
from taskrunner.settings import load_settings

HEALTHY = 0
UNHEALTHY = 1
"""Docker's "unhealthy" (2 is reserved): a missing server or a bad setting is 1 too."""
RECENT_POLL = timedelta(seconds=90)
"""A poll older than this is a stalled worker. An idle worker's long poll is answered
empty after about a minute and at once renewed, so a live one is never older than that."""


@dataclass(frozen=True)
class Verdict:
    code: int
    line: str


def this_host_polled(
    pollers: list[PollerInfo], hostname: str, now: float, identity: str | None = None
) -> Verdict:
    """Judge the pollers Temporal listed for the task queue (``now``: Unix seconds).

    This host's worker is the one named ``identity`` (``worker.identity``) when it is set,
    else any with the SDK's default identity on this host (``<pid>@<hostname>``)."""
    if not pollers:
        return Verdict(UNHEALTHY, "no worker polls the task queue (is the worker running?)")
    if identity is not None:
        ours = [p for p in pollers if p.identity == identity]
        mine = f"named {identity!r} (worker.identity)"
    else:
        ours = [p for p in pollers if p.identity.endswith(f"@{hostname}")]
        mine = f"on this host ({hostname})"
    if not ours:
        others = ", ".join(sorted({p.identity for p in pollers})[:3])
        return Verdict(
            UNHEALTHY,
            f"no worker {mine} polls the task queue; {len(pollers)} other poller(s): {others}",
        )
    latest = max(ours, key=lambda p: p.last_access_time.ToNanoseconds())
    age = max(0.0, now - latest.last_access_time.ToNanoseconds() / 1e9)
    if age > RECENT_POLL.total_seconds():
        return Verdict(
            UNHEALTHY,
            f"the worker on this host ({latest.identity}) last polled {age:.0f}s ago "
            f"(more than {RECENT_POLL.total_seconds():.0f}s): it is stalled or stopped",
        )
    return Verdict(HEALTHY, f"worker {latest.identity} polled {age:.0f}s ago")


async def check() -> Verdict:
    """Connect with the runner's settings and judge this host's worker."""
    settings = load_settings()
    client = await connect(settings)
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=settings.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        ),
        timeout=timedelta(seconds=settings.connect_timeout_seconds),
    )
    verdict = this_host_polled(
        list(described.pollers), socket.gethostname(), time.time(), settings.worker.identity
    )
    state = "healthy" if verdict.code == HEALTHY else "unhealthy"
    where = f"task queue {settings.task_queue!r} (namespace {client.namespace!r})"
    return Verdict(verdict.code, f"{state}: {where}: {verdict.line}")


def run() -> Verdict:
    """The verdict, with every failure turned into one unhealthy line (never a traceback)."""
    try:
        return asyncio.run(check())
    except UserError as err:  # bad settings, server unreachable, bad envconfig profile
        return Verdict(UNHEALTHY, f"unhealthy: {err}")
    except RPCError as err:
        reason = (str(err) or type(err).__name__).splitlines()[0][:300]
        return Verdict(UNHEALTHY, f"unhealthy: Temporal refused DescribeTaskQueue: {reason}")
    except Exception as err:
        reason = (str(err) or type(err).__name__).splitlines()[0][:300]
        return Verdict(UNHEALTHY, f"unhealthy: {type(err).__name__}: {reason}")


def main() -> None:
    """Print the verdict's line and exit with its code before interpreter teardown.

    temporalio sdk-python #300: a process that used a Temporal client can abort at
    interpreter exit (exit 134); ``os._exit`` after flushing keeps the real status.
    """
    verdict = run()
    stream = sys.stdout if verdict.code == HEALTHY else sys.stderr
    stream.write(verdict.line + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(verdict.code)


if __name__ == "__main__":
    main()
