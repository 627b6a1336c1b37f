"""Worker processes for fault tests: start ``tests.helpers.ledger_worker``, kill it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start_ledger_worker(
    address: str,
    task_queue: str,
    data_dir: Path,
    ledger: Path,
    log: Path,
    *,
    readings: Path | None = None,
    settings_env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """The real worker plus the ``ledgered`` task type, in a separate OS process.

    Args:
        readings: A JSON file the health monitor reads instead of this machine
            (``tests.helpers.readings.FileReadings``).
        settings_env: ``TASKRUNNER_*`` settings of the worker (none of this process's).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKRUNNER_", "TEMPORAL_"))}
    env |= settings_env or {}
    with open(log, "ab") as out:
        return subprocess.Popen(
            [
                sys.executable,
                *("-m", "tests.helpers.ledger_worker", address, task_queue),
                *(str(data_dir), str(ledger)),
                *([str(readings)] if readings else []),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )


def kill(proc: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL a process this test started (if it still runs) and reap it."""
    if proc is not None and proc.poll() is None:
        proc.kill()
    if proc is not None:
        proc.wait(timeout=30)
