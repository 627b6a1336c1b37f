"""Email channel: one message through the ``smtp`` section's server."""

from __future__ import annotations

import asyncio
import os
import re
from datetime import UTC, datetime
from email.utils import format_datetime, make_msgid

from temporalio.exceptions import ApplicationError

from taskrunner.errors import ConfigError
from taskrunner.notifications.channels.base import (
    Channel,
    ChannelError,
)
from taskrunner.notifications.models import Notification
from taskrunner.settings.notifications import EmailChannel as EmailSettings
from taskrunner.settings.resources import SmtpSettings
from taskrunner.smtp import SmtpSender, new_message

SUBJECT_MAX = 120
"""Subjects longer than this are cut (mail clients show little more)."""
MESSAGE_ID_DOMAIN = "taskrunner"
"""Right-hand side of the notification emails' Message-IDs."""


def message_id(notification: Notification) -> str:
    """The same for every resend of one sending (``delivery_id``), so it reads as one email."""
    if notification.delivery_id is None:
        return make_msgid("notification", domain=MESSAGE_ID_DOMAIN)
    left = re.sub(r"[^A-Za-z0-9.-]", "-", notification.delivery_id)
    return f"<notification-{left}@{MESSAGE_ID_DOMAIN}>"


def subject(notification: Notification, prefix: str) -> str:
    """``<prefix> [PRIORITY] source: first line of the message``."""
    first_line = (
        notification.message.strip().splitlines()[0] if notification.message.strip() else ""
    )
    text = f"{prefix} [{notification.priority.value.upper()}] {notification.source}: {first_line}"
    return text.strip()[:SUBJECT_MAX]


def body(notification: Notification) -> str:
    """The message, then its fields one per line, then where it came from."""
    lines = [notification.message, ""]
    if notification.fields:
        lines += [f"{key}: {value}" for key, value in notification.fields.items()]
        lines.append("")
    lines.append(f"-- {notification.source} ({notification.priority.value})")
    return "\n".join(lines) + "\n"


class EmailChannel(Channel):
    """Email through the shared SMTP sender, with the channel's own timeout."""

    name = "email"

    def __init__(self, settings: EmailSettings, smtp: SmtpSettings) -> None:
        super().__init__(settings.min_priority)
        if smtp.host is None:
            raise ConfigError(
                "the email notification channel is enabled but smtp.host is not set "
                "(set TASKRUNNER_SMTP__HOST or disable TASKRUNNER_NOTIFICATIONS__EMAIL__ENABLED)"
            )
        self.settings = settings
        self.smtp = smtp
        self.timeout_seconds = settings.timeout_seconds
        self._sender = SmtpSender(smtp, settings.timeout_seconds)

    def secrets(self) -> list[str]:
        return [os.environ.get(self.smtp.password_env, "")]

    async def send(self, notification: Notification) -> None:
        message = new_message()
        message["From"] = self.settings.from_address or self.smtp.from_address
        message["To"] = ", ".join(self.settings.to)
        message["Subject"] = subject(notification, self.settings.subject_prefix)
        message["Date"] = format_datetime(datetime.now(UTC))
        message["Message-ID"] = message_id(notification)
        message.set_content(body(notification))
        try:
            await asyncio.to_thread(self._sender.send, message)
        except ApplicationError as err:
            # The sender's one-line reason is the channel's failure text (the delivery
            # loop redacts ``secrets()`` from it); a permanent refusal is not retried.
            raise ChannelError(err.message, retryable=not err.non_retryable) from None
