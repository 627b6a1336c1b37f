"""What a workflow says happened; which channels hear it is a setting."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field


class Priority(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Priority).index(self)


class Notification(BaseModel):
    message: str
    priority: Priority = Priority.INFO
    source: str = Field(description="The workflow (or schedule) that sent it, e.g. health-monitor")
    fields: dict[str, Any] = Field(default_factory=dict)
    dedupe_key: str | None = None
    """What makes two notifications "identical" for the cooldown; None means the message.

    Set it when the message carries changing numbers but the situation is the same.
    Ignored for an ``alert``, whose identity is its name.
    """
    alert: str | None = None
    """The name of the alert this raises or updates; with ``source``, its identity.

    An alert stays open until its source sends ``resolves``. A repeat at the same or a
    lower priority updates its details and does not page (until ``cooldown_seconds``
    have passed since its last page: then it pages once more, as a reminder); a
    higher priority pages at once.
    """
    resolves: bool = False
    """The source is healthy again: delivered only if the source has an active alert."""
    ignore_cooldown: bool = False
    """Deliver even if an identical notification went out within the cooldown (an
    operator's explicit resend, ``notify send --force``); the cooldown restarts from it."""
    delivery_id: str | None = None
    """Set by send_notification for the channels, never by a sender: the id of this
    sending, the same on every resend of it (a retry after a crash), so a receiver can
    recognise a duplicate (the email's Message-ID, the webhook's ``delivery_id``)."""


class ChannelResult(BaseModel):
    channel: str
    delivered: bool
    error: str | None = None
    """The last attempt's error (secrets redacted)."""
    attempts: int = 1
    """Attempts made by this run; 0: an earlier run of this sending delivered it already."""
    final: bool = False
    """The channel refused it for good (an SMTP 5xx reply, a missing password): not retried."""


class DeliveryReport(BaseModel):
    delivered: bool
    """True when at least one channel that wanted this notification received it."""
    channels: list[ChannelResult] = Field(default_factory=list)
    suppressed: bool = False
    """True when nothing was sent on purpose (cooldown, or nothing to resolve)."""
    detail: str | None = None
    """Why nothing was sent, when that was on purpose."""
