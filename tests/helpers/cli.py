"""Run the ``taskrunner`` CLI as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
TASKRUNNER = str(Path(sys.executable).with_name("taskrunner"))
"""The installed console script, as a user runs it (``make venv`` puts it beside python)."""


def cli_env(**env: str) -> dict[str, str]:
    # Nor PYTHONUNBUFFERED: users' output is buffered when it is not a terminal, so a line
    # that must show at once has to be flushed by the CLI, and tests see what users see.
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TASKRUNNER_", "TEMPORAL_")) and k != "PYTHONUNBUFFERED"
    }
    clean["PYTHONPATH"] = str(ROOT)
    # Each worker process serves metrics, and `run` the dashboard (both on by default, at
    # fixed ports): give each its own, so two of them, or the developer's runner, never
    # collide.
    clean["TASKRUNNER_METRICS__ADDRESS"] = f"127.0.0.1:{free_port()}"
    clean["TASKRUNNER_DASHBOARD__PORT"] = str(free_port())
    return {**clean, **env}


CLI_TIMEOUT = 180.0
"""Upper bound of one CLI run in a test."""


def run_cli(
    *args: str, cwd: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run the CLI to its end; ``stdin``: what it reads (then a pipe, not a terminal)."""
    return subprocess.run(
        [TASKRUNNER, *args],
        cwd=cwd,
        env=cli_env(**env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
    )


def popen_cli(*args: str, cwd: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [TASKRUNNER, *args],
        cwd=cwd,
        env=cli_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
