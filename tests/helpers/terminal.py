"""The installed ``taskrunner`` in a real pseudo-terminal, and a runner started that way."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import psutil
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from taskrunner.settings import Settings, load_settings
from tests.helpers import free_port
from tests.helpers.cli import TASKRUNNER, cli_env

BANNER_END = "Press Ctrl-C to stop."
START_TIMEOUT = 90.0
STOP_TIMEOUT = 60.0


class Terminal:
    """One ``taskrunner`` command as the foreground job of a pseudo-terminal."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the CLI, with the pty as its controlling terminal
            os.chdir(cwd)
            os.execvpe(TASKRUNNER, [TASKRUNNER, *args], env)
        self.output = ""
        self.code: int | None = None

    def read_until(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in: {self.output}")
            self.read(0.2)

    def read(self, wait: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], wait)
        if ready:
            try:
                self.output += os.read(self.fd, 65536).decode(errors="replace")
            except OSError:  # the child closed the terminal
                time.sleep(wait)

    def ctrl_c(self) -> None:
        """What a terminal does on Ctrl-C: SIGINT to the whole foreground process group."""
        os.write(self.fd, b"\x03")

    def wait(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.code = os.waitstatus_to_exitcode(status)
                self.read(0.1)
                return self.code
            self.read(0.2)
        self.kill()
        raise AssertionError(f"taskrunner did not exit: {self.output}")

    def kill(self) -> None:
        """SIGKILL the command and everything it started (a test's last resort)."""
        if self.code is not None:
            return
        with contextlib.suppress(psutil.NoSuchProcess):
            for child in psutil.Process(self.pid).children(recursive=True):
                child.kill()
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        self.code = -signal.SIGKILL


@dataclass
class Runner:
    """``taskrunner run`` up in a terminal, with a client to its server."""

    terminal: Terminal
    settings: Settings
    """The runner's settings (its data dir, ports and task queue)."""
    env: dict[str, str]
    """The environment it runs with: give it to one-shot commands that talk to it."""
    client: Client

    def server_process(self) -> psutil.Process:
        """The embedded Temporal server the runner started (and supervises)."""
        for child in psutil.Process(self.terminal.pid).children(recursive=True):
            if "start-dev" in child.cmdline():
                return child
        raise AssertionError(f"the runner has no server: {self.terminal.output}")


@contextlib.asynccontextmanager
async def running_runner(cwd: Path, **env: str) -> AsyncIterator[Runner]:
    """Start ``taskrunner run`` on free ports in ``cwd``; Ctrl-C it at the end (then SIGKILL)."""
    port, ui_port = free_port(), free_port()
    task_queue = f"run-{port}"
    env = cli_env(
        TASKRUNNER_SERVER_PORT=str(port),
        TASKRUNNER_UI_PORT=str(ui_port),
        TASKRUNNER_TASK_QUEUE=task_queue,
        **env,
    )
    terminal = Terminal(["run"], cwd, env)
    try:
        terminal.read_until(BANNER_END, timeout=START_TIMEOUT)
        settings = load_settings(
            data_dir=cwd / ".taskrunner", task_queue=task_queue, server_port=port, ui_port=ui_port
        )
        client = await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)
        yield Runner(terminal=terminal, settings=settings, env=env, client=client)
        if terminal.code is None:
            terminal.ctrl_c()
            terminal.wait(STOP_TIMEOUT)
    finally:
        terminal.kill()
