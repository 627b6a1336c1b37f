"""The email channel against a real SMTP server (aiosmtpd): headers, and which replies retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from taskrunner.notifications.activities import NotificationActivities
from taskrunner.notifications.alert_state import UNDELIVERED, channel_failed
from taskrunner.notifications.models import DeliveryReport
from tests.helpers.smtp_receiver import Mailbox, smtp_receiver
from tests.test_notification_channels import alert, notifications


async def send(make_settings: Any, box: Mailbox, *messages: str) -> list[DeliveryReport]:
    settings = make_settings(
        smtp={"host": box.host, "port": box.port},
        notifications=notifications(email={"enabled": True, "to": ["ops@example.com"]}),
    )
    activities = NotificationActivities(settings)
    return [await activities.send_notification(alert(m)) for m in messages]


async def test_email_carries_a_date_and_a_message_id_of_its_own(make_settings: Any) -> None:
    with smtp_receiver() as box:
        reports = await send(make_settings, box, "Disk almost full", "Queue stuck")
    assert [r.delivered for r in reports] == [True, True]
    for message in box.messages:
        sent_at = parsedate_to_datetime(message["Date"])
        assert abs(datetime.now(UTC) - sent_at) < timedelta(minutes=1)
    ids = [m["Message-ID"] for m in box.messages]
    assert all(i.startswith("<notification-") and i.endswith("@taskrunner>") for i in ids)
    assert ids[0] != ids[1]


async def test_a_5xx_reply_is_final_after_one_attempt(make_settings: Any) -> None:
    with smtp_receiver() as box:
        box.replies = ["554 5.7.1 Message refused"] * 3
        [report] = await send(make_settings, box, "Disk almost full")
        [result] = report.channels
        counters = NotificationActivities(make_settings()).state.counters()
    assert not report.delivered
    assert (result.attempts, result.final, box.data_commands) == (1, True, 1)
    assert (
        result.error is not None
        and "refused the message: 554 5.7.1 Message refused" in result.error
    )
    assert counters == {UNDELIVERED: 1, channel_failed("email"): 1}


async def test_a_4xx_reply_is_retried(make_settings: Any) -> None:
    with smtp_receiver() as box:
        box.replies = ["451 4.3.0 Try again later"]
        [deferred_once] = await send(make_settings, box, "Disk almost full")
        box.replies = ["451 4.3.0 Try again later"] * 3
        [deferred] = await send(make_settings, box, "Queue stuck")
    assert deferred_once.delivered and deferred_once.channels[0].attempts == 2
    [result] = deferred.channels
    assert not deferred.delivered and (result.attempts, result.final) == (3, False)
    assert box.data_commands == 5 and len(box.messages) == 1
