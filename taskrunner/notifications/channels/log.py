"""Log channel: one JSON object per notification, appended to a JSON lines file."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

from taskrunner.notifications.channels.base import Channel
from taskrunner.notifications.models import (
    Notification,
    Priority,
)


def log_record(notification: Notification, now: datetime) -> dict[str, object]:
    """The structured record written for one notification."""
    return {
        "time": now.isoformat(),
        "priority": notification.priority.value,
        "source": notification.source,
        "message": notification.message,
        "fields": notification.fields,
        "resolves": notification.resolves,
        "alert": notification.alert,
        "delivery_id": notification.delivery_id,
    }


class LogChannel(Channel):
    name = "log"

    def __init__(self, min_priority: Priority, path: Path) -> None:
        super().__init__(min_priority)
        self.path = path

    async def send(self, notification: Notification) -> None:
        line = json.dumps(log_record(notification, datetime.now(UTC)), default=str)
        await asyncio.to_thread(self._append, line)

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One write call per record, so concurrent appends do not interleave lines.
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
