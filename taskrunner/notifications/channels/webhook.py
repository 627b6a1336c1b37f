"""Webhook channel: a generic JSON POST, optionally signed with HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from datetime import UTC, datetime

import httpx

from taskrunner.notifications.channels.base import (
    Channel,
    http_refusal,
    read_secret,
)
from taskrunner.notifications.models import Notification
from taskrunner.settings.notifications import WebhookChannel as WebhookSettings


def webhook_body(notification: Notification, now: datetime) -> bytes:
    """The exact bytes POSTed (and signed)."""
    payload = {
        "message": notification.message,
        "priority": notification.priority.value,
        "source": notification.source,
        "fields": notification.fields,
        "resolves": notification.resolves,
        "alert": notification.alert,
        "delivery_id": notification.delivery_id,
        "sent_at": now.isoformat(),
    }
    return json.dumps(payload, default=str, sort_keys=True).encode()


def signature(secret: str, body: bytes) -> str:
    """The signature header value: ``sha256=`` + hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel(Channel):
    name = "webhook"

    def __init__(self, settings: WebhookSettings) -> None:
        super().__init__(settings.min_priority)
        self.settings = settings
        self.timeout_seconds = settings.timeout_seconds

    def secrets(self) -> list[str]:
        names = [self.settings.url_env, self.settings.secret_env]
        return [os.environ.get(name, "") for name in names if name] + [self.settings.url or ""]

    async def send(self, notification: Notification) -> None:
        s = self.settings
        url = read_secret(s.url_env, "webhook URL") if s.url_env else (s.url or "")
        body = webhook_body(notification, datetime.now(UTC))
        headers = {"Content-Type": "application/json"}
        if s.secret_env:
            headers[s.signature_header] = signature(
                read_secret(s.secret_env, "webhook secret"), body
            )
        async with httpx.AsyncClient(timeout=self.timeout_seconds) as http:
            response = await http.post(url, content=body, headers=headers)
        if response.status_code >= 300:
            raise http_refusal("webhook", response.status_code)
