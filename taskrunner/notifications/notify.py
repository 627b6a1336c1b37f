"""Send a notification from workflow code without ever failing the sender.

``notify`` is the one way workflows report what happened; ``notify_resolved``
says a source that alerted is healthy again. Which channels hear either, the
cooldown and the secrets are the activity's business (settings, read there).
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from taskrunner.notifications.activities import NotificationActivities
    from taskrunner.notifications.models import (
        Notification,
        Priority,
    )
    from taskrunner.policies import NOTIFY_HEARTBEAT_TIMEOUT, NOTIFY_RETRY, NOTIFY_TIMEOUT


async def notify(
    message: str,
    priority: Priority,
    source: str,
    *,
    alert: str | None = None,
    dedupe_key: str | None = None,
    **fields: Any,
) -> bool:
    """Deliver through the configured channels; a delivery failure is logged, not raised.

    An alert that cannot go out must not fail the business workflow that sent it.
    Delivery is at-least-once per channel: a run lost with its worker is retried, and
    the retry sends only to the channels that had not confirmed it.

    Args:
        message: What happened, for people.
        priority: info, success, warning, error or critical; routes it to channels.
        source: The workflow (or schedule) that sends it, e.g. ``health-monitor``.
        alert: The name of the alert this raises or updates. With ``source`` it is the
            alert's identity: a repeat at the same or a lower priority updates the open
            alert without paging, a higher priority pages again, ``notify_resolved``
            closes it. None: a plain notification, held back only by the cooldown.
        dedupe_key: For a plain notification, what makes a repeat "identical" for the
            cooldown when the message carries changing numbers; the message by default.
        **fields: Extra structured data shown by the channels (must be serialisable).

    Returns:
        True when at least one channel received it.
    """
    notification = Notification(
        message=message,
        priority=priority,
        source=source,
        fields=fields,
        alert=alert,
        dedupe_key=dedupe_key,
    )
    return await _send(notification)


async def notify_resolved(source: str, message: str) -> bool:
    """Say ``source`` is healthy again; sent only if it has an unresolved alert.

    Call it whenever the source checks out fine: the activity knows (durably)
    whether an alert is outstanding, so this is a no-op most of the time.

    Returns:
        True when a resolved message went out.
    """
    notification = Notification(
        message=message, priority=Priority.SUCCESS, source=source, resolves=True
    )
    return await _send(notification)


async def _send(notification: Notification) -> bool:
    try:
        report = await workflow.execute_activity_method(
            NotificationActivities.send_notification,
            notification,
            start_to_close_timeout=NOTIFY_TIMEOUT,
            # A worker that dies mid-send stops heartbeating: the retry resumes its page.
            heartbeat_timeout=NOTIFY_HEARTBEAT_TIMEOUT,
            retry_policy=NOTIFY_RETRY,
        )
    except ActivityError as err:
        workflow.logger.warning(
            "Notification not delivered (%s): %s", err.cause, notification.message
        )
        return False
    if not report.delivered and not report.suppressed:
        workflow.logger.warning(
            "Notification not delivered (%s): %s",
            report.detail or "every channel failed",
            notification.message,
        )
    return report.delivered
