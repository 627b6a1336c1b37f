"""``taskrunner worker`` as a subprocess, ready once it polls: the runner's worker in tests."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import AsyncIterator
from pathlib import Path

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from tests.helpers import assert_eventually
from tests.helpers.cli import popen_cli


@contextlib.asynccontextmanager
async def worker(cwd: Path, client: Client, **env: str) -> AsyncIterator[None]:
    """``taskrunner worker`` for the block: the runner's worker, as when a runner is up.

    A queue command finds the server already running, so it starts no worker of its own;
    the block begins once the worker polls (a command sent before would warn, and wait).
    """
    process = popen_cli("worker", cwd=cwd, **env)
    try:
        await polled(client, env["TASKRUNNER_TASK_QUEUE"])
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        finally:
            process.kill()


async def polled(client: Client, task_queue: str) -> None:
    async def a_poller() -> None:
        described = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            )
        )
        assert described.pollers, f"no worker polls {task_queue} yet"

    await assert_eventually(a_poller, timeout=60)
