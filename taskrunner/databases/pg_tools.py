"""pg_dump and pg_restore as children that cannot outlive their worker.

A dump left running by a dead worker races the retry another worker starts, so
on Linux each child asks the kernel (``PR_SET_PDEATHSIG``) to be killed when the
thread that started it ends: the worker thread waits on the child, so that is
when the worker dies. A cancelled activity kills it through :meth:`kill`.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from taskrunner import errors

PR_SET_PDEATHSIG = 1
"""prctl(2) option: the signal this process gets when its parent thread exits."""
ERROR_LINES = 3
"""Lines of a failing tool's stderr kept in the error message."""


_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None
"""The C library's prctl, looked up once (and before any fork: the child only calls it)."""


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGKILL when its parent dies (Linux only)."""
    prctl = _PRCTL
    if prctl is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl: nobody will signal us
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


class ClientTools:
    """The PostgreSQL client tools of one database; one child at a time, killable."""

    def __init__(self, bin_dir: Path | None, scrub: Callable[[str], str]) -> None:
        self.bin_dir = bin_dir
        self.scrub = scrub
        """Removes secrets from what a tool printed before it goes into an error."""
        self._proc: subprocess.Popen[bytes] | None = None
        self._killed = False
        self._lock = threading.Lock()

    def find(self, name: str) -> str:
        found = shutil.which(name, path=str(self.bin_dir) if self.bin_dir else None)
        if found is None:
            where = self.bin_dir if self.bin_dir else "the PATH"
            raise errors.configuration_error(
                f"{name} not found in {where}; install the PostgreSQL client tools on the worker "
                "or set TASKRUNNER_MAINTENANCE__PG_BIN_DIR"
            )
        return found

    def run(self, args: list[str], env: dict[str, str] | None = None) -> str:
        """Run a tool to its end and return its output; raise with its (scrubbed) stderr."""
        with self._lock:
            if self._killed:  # cancelled before this tool started: never start it
                raise RuntimeError(f"{Path(args[0]).name} not started: the step was cancelled")
            proc = self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                # Its own session: the terminal's Ctrl-C, meant for the worker (which lets
                # running activities finish), does not reach it, nor can it prompt there.
                start_new_session=True,
                preexec_fn=_die_with_parent(),
            )
        try:
            out, err = proc.communicate()
        finally:
            with self._lock:
                self._proc = None
        if proc.returncode != 0:
            tool = Path(args[0]).name
            detail = " ".join(err.decode(errors="replace").strip().splitlines()[:ERROR_LINES])
            raise RuntimeError(self.scrub(f"{tool} failed (exit {proc.returncode}): {detail}"))
        return out.decode(errors="replace")

    def kill(self) -> None:
        """Kill the running tool, and start no other (the activity was cancelled)."""
        with self._lock:
            self._killed = True
            if self._proc is not None:
                self._proc.kill()
