"""``taskrunner worker --processes N``: N worker processes on one machine, one command.

Each process is a whole ``taskrunner worker`` polling the same task queue, so queues
(each one workflow, run by one worker at a time) spread over them, and remote attempts
go to whichever polls first: one Python process uses one core, N use N. Each gets its
own identity (``<identity>-<i>``) and metrics port (``metrics.address`` + i).

The children run in sessions of their own: a terminal's Ctrl-C reaches only this
process, which passes every SIGINT or SIGTERM on to each child exactly once (the first
stops them gracefully, a second at once), and a SIGKILL of this process still stops
them (the kernel sends them SIGTERM when it dies).
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Sequence

from taskrunner.settings import Settings

PR_SET_PDEATHSIG = 1


def child_env(settings: Settings, index: int) -> dict[str, str]:
    """The environment of worker process ``index`` (1-based): its identity and port."""
    env = dict(os.environ)
    base = settings.worker.identity or f"{os.getpid()}@{socket.gethostname()}"
    env["TASKRUNNER_WORKER__IDENTITY"] = f"{base}-{index}"
    if settings.metrics.enabled:
        host, _, port = settings.metrics.address.rpartition(":")
        env["TASKRUNNER_METRICS__ADDRESS"] = f"{host}:{int(port) + index - 1}"
    return env


def _die_with_parent() -> None:  # runs in the child, between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


async def run_processes(settings: Settings, count: int, task_modules: Sequence[str]) -> int:
    """Run ``count`` worker processes until they end; the worst exit status."""
    argv = [sys.executable, "-c", "from starter import main; main()", "worker"]
    for module in task_modules:
        argv += ["--task-module", module]
    children = [
        await asyncio.create_subprocess_exec(
            *argv,
            env=child_env(settings, index),
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        for index in range(1, count + 1)
    ]
    received: list[int] = []

    def forward(sig: signal.Signals) -> None:
        received.append(sig)
        if len(received) == 1:
            print(f"Stopping {count} worker processes...", file=sys.stderr, flush=True)
        for child in children:
            if child.returncode is None:
                child.send_signal(sig)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, forward, sig)
    waits = [asyncio.ensure_future(child.wait()) for child in children]
    done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    if not received:  # one ended by itself (a setup error, a crash): stop the others
        first = next(iter(done)).result()
        print(
            f"a worker process ended with status {first}; stopping the others",
            file=sys.stderr,
            flush=True,
        )
        forward(signal.SIGTERM)
    codes = await asyncio.gather(*waits)
    if received:
        return 128 + received[0]
    return max((code for code in codes if code), default=1)
