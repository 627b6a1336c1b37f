"""Email channel: one message through the ``smtp`` section's server."""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
from email.message import EmailMessage

from taskrunner.errors import ConfigError
from taskrunner.notifications.channels.base import (
    Channel,
    ChannelError,
)
from taskrunner.notifications.models import Notification
from taskrunner.settings.notifications import EmailChannel as EmailSettings
from taskrunner.settings.resources import SmtpSettings

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

    def secrets(self) -> list[str]:
        return [os.environ.get(self.smtp.password_env, "")]

    async def send(self, notification: Notification) -> None:
        message = EmailMessage()
        message["From"] = self.settings.from_address or self.smtp.from_address
        message["To"] = ", ".join(self.settings.to)
        message["Subject"] = subject(notification, self.settings.subject_prefix)
        message.set_content(body(notification))
        await asyncio.to_thread(self._deliver, message)

    def _deliver(self, message: EmailMessage) -> None:
        smtp, host = self.smtp, self.smtp.host or ""
        timeout = self.timeout_seconds
        server: smtplib.SMTP
        if smtp.security == "ssl":
            server = smtplib.SMTP_SSL(
                host, smtp.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            server = smtplib.SMTP(host, smtp.port, timeout=timeout)
        with server:
            if smtp.security == "starttls":
                server.starttls(context=ssl.create_default_context())
            if smtp.username:
                # Read at send time: the password lives only in the worker's environment.
                password = os.environ.get(smtp.password_env)
                if not password:
                    raise ChannelError(
                        f"environment variable {smtp.password_env} (SMTP password) is not set"
                    )
                server.login(smtp.username, password)
            server.send_message(message)
