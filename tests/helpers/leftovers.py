"""Processes a test run leaves running: found when it ends, reported one a line, killed.

A process belongs to the run when it descends from the runner, or when its environment
carries the run's marker: every process the run starts inherits the variable, also one
that left the runner's process tree (dockerd started under setsid, the containerd shims,
which daemonize). Their own children (a container's processes) belong to it too.

A process named like ours (``OUR_COMMANDS``) that started during the run but carries no
marker, or whose environment cannot be read, is most likely another test run's on this
machine (several engineers run the suite at once): it is named in a warning, not killed.

``python -m tests.helpers.leftovers VARIABLE VALUE SINCE`` runs the same check for
``.ci/run`` after ``make test`` (SINCE: the epoch seconds the run began).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psutil

SESSION_MARKER = "TTR_TEST_SESSION"
"""The variable tests/run.py marks its processes with (conftest.py drops TASKRUNNER_*)."""
OUR_COMMANDS = ("temporal", "dockerd", "containerd", "taskrunner", "starter.py", "ledger_worker")
"""Words in the command lines of what the tests start: ``temporal`` covers the
time-skipping test server and ``temporal server start-dev``, ``containerd`` the shims."""
SETTLE_SECONDS = 5.0
"""How long a process stopped at the end of the run may take to exit before it is a leftover."""
STOP_GRACE_SECONDS = 10.0
"""How long a leftover has to exit on SIGTERM before it gets SIGKILL."""
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class RunWatch:
    """The marker of one test run and what was already running when it began."""

    variable: str
    marker: str
    started_at: float
    existing: frozenset[int] = frozenset()

    @classmethod
    def begin(cls, variable: str = SESSION_MARKER) -> RunWatch:
        """Mark every process this one starts from now on; note those already running."""
        marker = uuid.uuid4().hex
        os.environ[variable] = marker
        return cls(variable, marker, time.time(), frozenset(psutil.pids()))

    def leftovers(self) -> list[psutil.Process]:
        """The run's processes still running, given ``SETTLE_SECONDS`` to exit."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while (found := self._find()) and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
        return found

    def strangers(self) -> list[psutil.Process]:
        """Processes named like ours, started during the run, not marked as the run's."""
        return [p for p in psutil.process_iter() if self._is_stranger(p)]

    def _find(self) -> list[psutil.Process]:
        me = psutil.Process()
        spared = {me.pid, *(parent.pid for parent in me.parents())}
        ours = {child.pid: child for child in me.children(recursive=True)}
        for process in psutil.process_iter():
            if process.pid not in ours and self._is_marked(process):
                ours[process.pid] = process
                ours.update((child.pid, child) for child in _children(process))
        return [p for pid, p in sorted(ours.items()) if pid not in spared and _running(p)]

    def _is_marked(self, process: psutil.Process) -> bool:
        try:
            return process.environ().get(self.variable) == self.marker
        except psutil.Error:
            return False

    def _is_stranger(self, process: psutil.Process) -> bool:
        try:
            if process.pid in self.existing or process.create_time() < self.started_at:
                return False
            if not any(word in " ".join(process.cmdline()) for word in OUR_COMMANDS):
                return False
        except psutil.Error:
            return False
        return not self._is_marked(process) and _running(process)


def check(watch: RunWatch) -> bool:
    """Report the run's leftovers one a line on stderr and kill them; True when none."""
    leftovers = watch.leftovers()
    lines = [describe(process) for process in leftovers]
    stop(leftovers)
    for line in lines:
        sys.stderr.write(f"error: left running after the tests (killed): {line}\n")
    leftover_pids = {process.pid for process in leftovers}
    for process in watch.strangers():
        if process.pid not in leftover_pids:
            sys.stderr.write(
                "warning: started during the tests and still running, not marked as this "
                f"run's (another test run?), left alone: {describe(process)}\n"
            )
    return not leftovers


def describe(process: psutil.Process) -> str:
    """``pid: command line`` (the name when the command line cannot be read)."""
    try:
        command = " ".join(process.cmdline()) or process.name()
    except psutil.Error:
        command = "(gone)"
    return f"{process.pid}: {command}"


def stop(processes: list[psutil.Process]) -> None:
    """SIGTERM, then SIGKILL for what still runs after ``STOP_GRACE_SECONDS``."""
    _signal(processes, psutil.Process.terminate)
    alive = _wait(processes)
    _signal(alive, psutil.Process.kill)
    _wait(alive)


def _signal(processes: list[psutil.Process], send: Callable[[psutil.Process], None]) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            send(process)


def _wait(processes: list[psutil.Process]) -> list[psutil.Process]:
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while (processes := [p for p in processes if _running(p)]) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
    return processes


def _children(process: psutil.Process) -> Iterable[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []


def _running(process: psutil.Process) -> bool:
    """Still running: a zombie has ended (only its parent can reap it)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def main(argv: list[str]) -> int:
    """``VARIABLE VALUE SINCE``: status 1 when the marked run left processes running."""
    if len(argv) != 3:
        sys.stderr.write("usage: python -m tests.helpers.leftovers VARIABLE VALUE SINCE\n")
        return 2
    variable, marker, since = argv
    return 0 if check(RunWatch(variable, marker, float(since))) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
