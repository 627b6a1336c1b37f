"""Send a notification from workflow code without ever failing the sender."""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.notifications import NotificationActivities
    from taskrunner.models.notifications import Notification, Priority
    from taskrunner.policies import NOTIFY_RETRY, NOTIFY_TIMEOUT


async def notify(message: str, priority: Priority, source: str, **fields: Any) -> bool:
    """Deliver through the configured channels; a delivery failure is logged, not raised.

    The seed runs with ``exit_on_failure: false``: an alert that cannot go out must
    not fail the business workflow that sent it.
    """
    notification = Notification(message=message, priority=priority, source=source, fields=fields)
    try:
        report = await workflow.execute_activity_method(
            NotificationActivities.send_notification,
            notification,
            start_to_close_timeout=NOTIFY_TIMEOUT,
            retry_policy=NOTIFY_RETRY,
        )
    except ActivityError as err:
        workflow.logger.warning("Notification not delivered (%s): %s", err.cause, message)
        return False
    return report.delivered
