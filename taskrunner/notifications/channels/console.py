"""Console channel: one ``📧 [PRIORITY] message`` line per notification on standard output."""

from __future__ import annotations

import sys

from taskrunner.notifications.channels.base import Channel
from taskrunner.notifications.models import Notification


def console_line(notification: Notification) -> str:
    """The console format: ``📧 [PRIORITY] message``."""
    return f"📧 [{notification.priority.value.upper()}] {notification.message}"


class ConsoleChannel(Channel):
    name = "console"

    async def send(self, notification: Notification) -> None:
        sys.stdout.write(console_line(notification) + "\n")
        sys.stdout.flush()
