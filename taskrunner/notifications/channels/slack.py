"""Slack channel: an incoming-webhook message with a colour per priority."""

from __future__ import annotations

import os
from typing import Any

import httpx

from taskrunner.notifications.channels.base import (
    Channel,
    http_refusal,
    read_secret,
)
from taskrunner.notifications.models import (
    Notification,
    Priority,
)
from taskrunner.settings.notifications import SlackChannel as SlackSettings

COLOURS = {
    Priority.INFO: "#439fe0",
    Priority.SUCCESS: "good",
    Priority.WARNING: "warning",
    Priority.ERROR: "danger",
    Priority.CRITICAL: "#7b0000",
}
"""Attachment colour per priority (Slack's named colours where it has one)."""


def slack_payload(notification: Notification) -> dict[str, Any]:
    """The incoming-webhook JSON: a text line plus one coloured attachment."""
    label = notification.priority.value.upper()
    first_line = (notification.message.strip().splitlines() or [""])[0]
    attachment: dict[str, Any] = {
        "color": COLOURS[notification.priority],
        "text": notification.message,
        "footer": notification.source,
    }
    if notification.fields:
        attachment["fields"] = [
            {"title": key, "value": str(value), "short": True}
            for key, value in notification.fields.items()
        ]
    return {
        "text": f"[{label}] {notification.source}: {first_line}",
        "attachments": [attachment],
    }


class SlackChannel(Channel):
    name = "slack"

    def __init__(self, settings: SlackSettings) -> None:
        super().__init__(settings.min_priority)
        self.settings = settings
        self.timeout_seconds = settings.timeout_seconds

    def secrets(self) -> list[str]:
        return [os.environ.get(self.settings.webhook_url_env, "")]

    async def send(self, notification: Notification) -> None:
        url = read_secret(self.settings.webhook_url_env, "Slack webhook URL")
        async with httpx.AsyncClient(timeout=self.timeout_seconds) as http:
            response = await http.post(url, json=slack_payload(notification))
        if response.status_code >= 300:
            raise http_refusal("Slack", response.status_code)
