"""Console events: the one-line story of what the runner did, told from workflow code.

Workflow code logs through ``workflow.logger`` (silent during replay) and marks the
records meant for the runner's console with :func:`event`; everything else, SDK
tracebacks included, goes to the log file only (see ``taskrunner.cli.logs``).
"""

from __future__ import annotations

from datetime import timedelta

EVENT = "taskrunner_event"
"""Attribute of a log record that carries its console line."""
MAX_DETAIL = 200
"""An error shown in an event line is cut to this many characters (its first line)."""


def event(line: str) -> dict[str, str]:
    """``extra=`` for a log call whose record is also one console line."""
    return {EVENT: line}


def first_line(text: str, limit: int = MAX_DETAIL) -> str:
    """The first line of a message, cut to ``limit`` characters."""
    first = (text.strip().splitlines() or [""])[0]
    return first if len(first) <= limit else first[: limit - 1] + "…"


def attempts(n: int) -> str:
    """``1 attempt``, ``3 attempts``."""
    return f"{n} attempt{'' if n == 1 else 's'}"


def duration(elapsed: timedelta) -> str:
    """``0.4 s``, ``12.0 s``, ``3 min 05 s``, ``2 h 10 min``."""
    seconds = max(elapsed.total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"
