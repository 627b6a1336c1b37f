"""Where a command's Temporal comes from, and which worker (if any) serves it.

Three kinds of command, three kinds of session:

- one-shot work (``health``, ``maintenance``, ``demo``): a worker of its own, in
  this process, on a private task queue, with the caller's settings; the runner's
  task queue never sees it, whether or not a runner is up.
- queue commands: talk to the runner's queue workflows; when no runner is up (this
  command started the embedded server itself), a stand-in worker serves the
  runner's task queue for the command's lifetime, so the request is answered.
- schedule commands: a client, nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from taskrunner.client import connect, remote_address_configured
from taskrunner.devserver import DevServer, port_open
from taskrunner.settings import Settings


class Serving(enum.Enum):
    """Which worker a command's session runs in-process."""

    NONE = "none"
    PRIVATE = "private"
    """A worker on a task queue of its own, with this command's settings."""
    STAND_IN = "stand-in"
    """A worker on the runner's task queue, only while no runner is up."""


@dataclass
class Session:
    client: Client
    settings: Settings
    """The command's settings; with a private worker, its ``task_queue`` is the private one."""
    server: DevServer | None
    """The embedded server this session started (None: it was already there)."""
    ui_url: str | None


def private_task_queue(settings: Settings) -> str:
    """A task queue only this process polls (the runner's name, to find it in the web UI)."""
    return f"{settings.task_queue}-cli-{uuid.uuid4().hex[:8]}"


@contextlib.asynccontextmanager
async def temporal_session(
    settings: Settings, serving: Serving = Serving.PRIVATE
) -> AsyncIterator[Session]:
    """Connect to Temporal, starting the embedded dev server when none is configured or
    running (the CLI made sure of the data dir before the command began)."""
    server = None
    ui_url = None
    if not remote_address_configured():
        ui_url = f"http://127.0.0.1:{settings.ui_port}"
        if not port_open("127.0.0.1", settings.server_port):
            server = DevServer(settings.data_dir, settings.server_port, settings.ui_port)
            await server.start_async()
    try:
        client = await connect(settings)
        if serving is Serving.PRIVATE:
            settings = settings.model_copy(update={"task_queue": private_task_queue(settings)})
        session = Session(client=client, settings=settings, server=server, ui_url=ui_url)
        if serving is Serving.STAND_IN and server is None:
            await warn_if_unserved(client, settings.task_queue)
        if serving is Serving.PRIVATE or (serving is Serving.STAND_IN and server is not None):
            from taskrunner.worker import build_worker

            async with build_worker(client, settings):
                yield session
        else:
            yield session
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)


async def warn_if_unserved(client: Client, task_queue: str) -> None:
    """One line on stderr when no worker has polled the runner's task queue lately: the
    request would wait for one without a word."""
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    if not described.pollers:
        sys.stderr.write(
            f"warning: no worker polls task queue {task_queue!r}; the request waits until one "
            "does (start taskrunner run or taskrunner worker; Ctrl-C stops waiting)\n"
        )
        sys.stderr.flush()


class StopSignal(asyncio.Event):
    """Set by the first SIGINT or SIGTERM; remembers which, for the exit status.

    The worker then shuts down gracefully (in-flight activities get time to finish) and
    the embedded server stops last. A second signal does not wait: it exits at once.
    """

    def __init__(self) -> None:
        super().__init__()
        self.signal: signal.Signals | None = None
        self.code: int | None = None
        """An exit status set by :meth:`fail` (None: the signal's)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._received, sig)

    def _received(self, sig: signal.Signals) -> None:
        if self.is_set():
            sys.stderr.write("Stopping now (second signal): in-flight tasks will be retried\n")
            sys.stderr.flush()
            os._exit(128 + sig)
        self.signal = sig
        self.set()

    def fail(self, code: int) -> None:
        """Stop without a signal, ending with ``code`` (a supervised part gave up)."""
        self.code = code
        self.set()

    @property
    def exit_code(self) -> int:
        """128 + the signal number, the shell's convention (130 for Ctrl-C); 0 if none."""
        if self.code is not None:
            return self.code
        return 128 + self.signal if self.signal is not None else 0


def stop_event() -> StopSignal:
    """An event set by SIGINT or SIGTERM (Ctrl-C stops cleanly, no traceback)."""
    return StopSignal()
