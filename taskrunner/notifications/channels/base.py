"""The one interface every notification channel implements."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod

from taskrunner.errors import RETRYABLE_HTTP_STATUS
from taskrunner.notifications.models import (
    Notification,
    Priority,
)
from taskrunner.settings.notifications import DEFAULT_CHANNEL_TIMEOUT


class ChannelError(Exception):
    """A delivery attempt failed; the message is safe to report (no secrets).

    Args:
        message: What went wrong, in one line.
        retryable: False when the receiver refused for good (an SMTP 5xx reply, a missing
            password): the channel is not tried again for this notification.
    """

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Channel(ABC):
    """A place notifications go: console, log file, email, Slack, a webhook.

    Subclasses set ``name`` and implement ``send``, raising ``ChannelError`` (or any
    exception) when the notification did not get through; ``ChannelError(...,
    retryable=False)`` when trying again cannot help.
    """

    name: str = ""
    timeout_seconds: float = DEFAULT_CHANNEL_TIMEOUT

    def __init__(self, min_priority: Priority) -> None:
        self.min_priority = min_priority

    def wants(self, priority: Priority) -> bool:
        """Whether a notification routed at ``priority`` goes to this channel."""
        return priority.rank >= self.min_priority.rank

    @abstractmethod
    async def send(self, notification: Notification) -> None:
        """Deliver one notification or raise."""

    def secrets(self) -> list[str]:
        """Values that must never appear in a reported error (URLs, passwords)."""
        return []


def http_refusal(receiver: str, status: int) -> ChannelError:
    """The error for an HTTP answer of ``status`` (300 or more) from ``receiver``: final
    unless the status says to try again later (``RETRYABLE_HTTP_STATUS``): a 400 or 404
    (a wrong URL, a revoked hook) answers the same to every retry."""
    return ChannelError(
        f"{receiver} answered HTTP {status}", retryable=status in RETRYABLE_HTTP_STATUS
    )


def read_secret(env_name: str, what: str) -> str:
    """The value of environment variable ``env_name``, read now (never stored in settings)."""
    value = os.environ.get(env_name)
    if not value:
        raise ChannelError(f"environment variable {env_name} ({what}) is not set")
    return value


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every non-empty secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def describe(err: BaseException) -> str:
    """A short, one-line description of a delivery error."""
    if isinstance(err, ChannelError):
        return str(err)
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}"[:300] if text else type(err).__name__
