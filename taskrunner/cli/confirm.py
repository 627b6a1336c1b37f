"""Asking before a destructive command: on a terminal a question, without one a refusal."""

from __future__ import annotations

import asyncio
import sys

from taskrunner.errors import UserError


async def confirmed(question: str, refusal: str) -> bool:
    """True when the user answers yes to ``question`` on the terminal. Without a terminal
    the command is refused with ``refusal`` (a script says --yes)."""
    if not sys.stdin.isatty():
        raise UserError(refusal)
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = await asyncio.to_thread(sys.stdin.readline)
    return answer.strip().lower() in ("y", "yes")
