"""Notification channels: one interface (``base.Channel``), one module per channel."""

from __future__ import annotations

from taskrunner.notifications.channels.base import (
    Channel,
    ChannelError,
)
from taskrunner.notifications.channels.console import ConsoleChannel
from taskrunner.notifications.channels.email import EmailChannel
from taskrunner.notifications.channels.log import LogChannel
from taskrunner.notifications.channels.slack import SlackChannel
from taskrunner.notifications.channels.webhook import WebhookChannel
from taskrunner.settings import Settings

__all__ = ["Channel", "ChannelError", "build_channels"]


def build_channels(settings: Settings) -> list[Channel]:
    """The enabled channels, in a fixed order, built from the settings."""
    n = settings.notifications
    channels: list[Channel] = []
    if n.console.enabled:
        channels.append(ConsoleChannel(n.console.min_priority))
    if n.log.enabled:
        path = n.log_file(settings.data_dir)
        channels.append(LogChannel(n.log.min_priority, path))
    if n.email.enabled:
        channels.append(EmailChannel(n.email, settings.smtp))
    if n.slack.enabled:
        channels.append(SlackChannel(n.slack))
    if n.webhook.enabled:
        channels.append(WebhookChannel(n.webhook))
    return channels
