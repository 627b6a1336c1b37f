"""Email channel: one message through the ``smtp`` section's server."""

from __future__ import annotations

import asyncio
import os
from email.message import EmailMessage

from temporalio.exceptions import ApplicationError

from taskrunner.errors import ConfigError
from taskrunner.notifications.channels.base import (
    Channel,
    ChannelError,
)
from taskrunner.notifications.models import Notification
from taskrunner.settings.notifications import EmailChannel as EmailSettings
from taskrunner.settings.resources import SmtpSettings
from taskrunner.smtp import SmtpSender

SUBJECT_MAX = 120
"""Subjects longer than this are cut (mail clients show little more)."""


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
        message = EmailMessage()
        message["From"] = self.settings.from_address or self.smtp.from_address
        message["To"] = ", ".join(self.settings.to)
        message["Subject"] = subject(notification, self.settings.subject_prefix)
        message.set_content(body(notification))
        try:
            await asyncio.to_thread(self._sender.send, message)
        except ApplicationError as err:
            # The sender's one-line reason is the channel's failure text; the
            # delivery loop redacts ``secrets()`` from it before reporting it.
            raise ChannelError(err.message) from None
