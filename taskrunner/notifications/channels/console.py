"""Console channel: one ``📧 [PRIORITY] message`` line per notification on standard output."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from taskrunner.notifications.channels.base import Channel
from taskrunner.notifications.models import Notification


def console_line(notification: Notification) -> str:
    """The console format: ``📧 [PRIORITY] message``."""
    return f"📧 [{notification.priority.value.upper()}] {notification.message}"


class HeldConsole:
    """Console notifications kept back while a one-shot command's workflow runs.

    ``health`` and ``demo`` run the worker in their own process and print a report
    when the workflow ends: a line written while it ran would stand before the
    report, away from the step that sent it. Held, the command prints each one in
    the section of its source (see :meth:`take`).
    """

    def __init__(self) -> None:
        self._held: list[Notification] = []

    def add(self, notification: Notification) -> None:
        self._held.append(notification)

    def take(self, *sources: str) -> list[str]:
        """The console lines of ``sources``' notifications, oldest first; no longer held."""
        taken = [n for n in self._held if n.source in sources]
        self._held = [n for n in self._held if n.source not in sources]
        return [console_line(n) for n in taken]

    def take_all(self) -> list[str]:
        taken, self._held = self._held, []
        return [console_line(n) for n in taken]


_holds: list[HeldConsole] = []
"""The holds in force, innermost last; the console channel writes into the innermost."""


@contextlib.contextmanager
def hold_console() -> Iterator[HeldConsole]:
    """Hold what the console channel delivers in this process until the command prints it.

    Whatever is still held when the block ends is written then, so nothing the
    channel reported as delivered is lost (not even when the command fails).
    """
    hold = HeldConsole()
    _holds.append(hold)
    try:
        yield hold
    finally:
        _holds.remove(hold)
        for line in hold.take_all():
            sys.stdout.write(line + "\n")
        sys.stdout.flush()


class ConsoleChannel(Channel):
    name = "console"

    async def send(self, notification: Notification) -> None:
        if _holds:
            _holds[-1].add(notification)
            return
        sys.stdout.write(console_line(notification) + "\n")
        sys.stdout.flush()
