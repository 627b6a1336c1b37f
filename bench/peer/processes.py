"""Child processes of the peer benchmark, each in its own process group, never left behind."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import psutil

STOP_SECONDS = 15.0
"""How long SIGTERM may take before the whole group is SIGKILLed."""
GONE_SECONDS = 10.0
"""How long the group's last members may take to disappear after the leader exited."""
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask the kernel to SIGTERM the child if the benchmark dies without cleaning up."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def start_group(
    command: Sequence[str], log: Path, cwd: Path, stdin: int | None = None, **env: str
) -> subprocess.Popen[Any]:
    """Start ``command`` as the leader of a new process group; stderr (and stdout
    unless ``stdin`` asks for pipes) go to ``log``."""
    pipes = stdin == subprocess.PIPE
    with log.open("ab") as out:
        return subprocess.Popen(
            list(command),
            cwd=cwd,
            env=os.environ | env,
            stdin=stdin,
            stdout=subprocess.PIPE if pipes else out,
            stderr=out,
            text=pipes,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def members(pgid: int) -> list[int]:
    """Live processes of group ``pgid`` (zombies waiting for their reaper do not count)."""
    found = []
    for process in psutil.process_iter(["status"]):
        with contextlib.suppress(psutil.Error, OSError):
            if os.getpgid(process.pid) == pgid and process.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(process.pid)
    return found


def stop_group(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM the process group of ``proc`` (SIGKILL after STOP_SECONDS); raise if a
    member is still alive afterwards."""
    pgid = proc.pid  # the leader of a new session: its pid is the group id
    for stream in (proc.stdin, proc.stdout):
        _close(stream)
    _signal_group(pgid, signal.SIGTERM)
    try:
        proc.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        _signal_group(pgid, signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + GONE_SECONDS
    while members(pgid):
        if time.monotonic() > deadline:
            _signal_group(pgid, signal.SIGKILL)
            time.sleep(0.5)
            if left := members(pgid):
                raise RuntimeError(f"processes {left} of group {pgid} outlived SIGKILL")
            return
        time.sleep(0.05)


def _close(stream: IO[Any] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):
            stream.close()


def log_tail(log: Path, lines: int = 3) -> str:
    """The last lines of a child's log, on one line (for an n/a note)."""
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(line.strip() for line in text[-lines:])
