"""Notification delivery. Workflows say what happened; settings say who hears it."""

from __future__ import annotations

import sys

from temporalio import activity

from taskrunner.models.notifications import ChannelResult, DeliveryReport, Notification


def console_line(notification: Notification) -> str:
    """The seed's console format: ``📧 [PRIORITY] message``."""
    return f"📧 [{notification.priority.value.upper()}] {notification.message}"


class NotificationActivities:
    """The send_notification activity; the worker builds it with the settings."""

    @activity.defn(name="send_notification")
    async def send_notification(self, notification: Notification) -> DeliveryReport:
        sys.stdout.write(console_line(notification) + "\n")
        sys.stdout.flush()
        return DeliveryReport(
            delivered=True, channels=[ChannelResult(channel="console", delivered=True)]
        )
