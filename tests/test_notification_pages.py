"""Pages: reserve, send, confirm. A sender that dies mid-send loses nothing for long.

``decide`` is pure and tested on its own; the rest runs send_notification against
real receivers, with the clock injected where a reservation has to expire.
"""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

from taskrunner.notifications.activities import (
    RESERVATION_SECONDS,
    NotificationActivities,
    holder,
    identity,
)
from taskrunner.notifications.models import Notification, Priority
from taskrunner.notifications.pages import Page, Request, Verdict, decide
from tests.helpers.peers import http_peer
from tests.helpers.smtp_receiver import smtp_receiver
from tests.test_notification_channels import alert, notifications

NOW = 1_000_000.0
ERROR, CRITICAL = Priority.ERROR, Priority.CRITICAL


def page(holder: str = "a", priority: Priority = ERROR, **state: Any) -> Page:
    values = {"sent_at": NOW - 60, "reserved_until": NOW + 1, "confirmed": True, **state}
    return Page("p1", holder, priority, **values)


def ask(holder: str = "b", priority: Priority = ERROR, **options: Any) -> Request:
    return Request("k", "health-monitor", holder, priority, NOW, cooldown=600, **options)


@pytest.mark.parametrize(
    ("last", "request_", "verdict"),
    [
        (None, ask(), Verdict.NEW),
        (page(), ask(), Verdict.COOLDOWN),
        (page(sent_at=NOW - 600), ask(), Verdict.NEW),  # the cooldown is over
        (page(), ask(force=True), Verdict.NEW),
        (page(), ask(priority=CRITICAL), Verdict.COOLDOWN),  # plain: priority is in its key
        (page(), ask(priority=CRITICAL, alert="x"), Verdict.NEW),  # an alert that rises
        (page(priority=CRITICAL), ask(alert="x"), Verdict.COOLDOWN),  # ... or falls
        (page(holder="b"), ask(), Verdict.DELIVERED),  # a retry of a run that ended
        (page(confirmed=False), ask(), Verdict.IN_FLIGHT),
        (page(confirmed=False, reserved_until=NOW), ask(), Verdict.RESUME),  # expired
        (page(holder="b", confirmed=False), ask(), Verdict.RESUME),  # its own retry
        (page(confirmed=False), ask(priority=CRITICAL, alert="x"), Verdict.NEW),
    ],
)
def test_decide(last: Page | None, request_: Request, verdict: Verdict) -> None:
    assert decide(last, request_) == verdict


def lost_page(activities: NotificationActivities, sender: str, now: float) -> str:
    """What a run killed mid-send leaves behind: its page reserved, never finished."""
    note = alert()
    request = Request(identity(note), note.source, sender, note.priority, now, cooldown=1800)
    return activities.state.reserve(request, RESERVATION_SECONDS).page_id


async def test_a_dead_senders_page_is_taken_over_once_its_reservation_expires(
    make_settings: Any,
) -> None:
    now = [NOW]
    with smtp_receiver() as box:
        settings = make_settings(
            smtp={"host": box.host, "port": box.port},
            notifications=notifications(email={"enabled": True, "to": ["ops@example.com"]}),
        )
        activities = NotificationActivities(settings, clock=lambda: now[0])
        lost = lost_page(activities, "a-worker-that-died", now[0])
        now[0] += 10
        early = await activities.send_notification(alert())
        now[0] += RESERVATION_SECONDS
        late = await activities.send_notification(alert())
        now[0] += 10
        again = await activities.send_notification(alert())
    assert early.suppressed and early.detail and "being sent right now" in early.detail
    assert late.delivered
    assert again.suppressed  # confirmed now: the cooldown holds it
    [message] = box.messages
    # The same page, resumed: its Message-ID says so to anyone who got it before.
    assert message["Message-ID"] == f"<notification-{lost}@taskrunner>"


async def test_a_retried_run_resumes_its_page_and_skips_the_channels_that_confirmed_it(
    make_settings: Any,
) -> None:
    with http_peer() as peer:
        settings = make_settings(
            notifications=notifications(
                log={"enabled": True}, webhook={"enabled": True, "url": f"{peer.url}/hook"}
            )
        )
        activities = NotificationActivities(settings)
        env = ActivityEnvironment()  # each run has the same activity info: a retry
        sender = env.run(holder)
        lost = lost_page(activities, sender, activities.clock())
        activities.state.confirm(identity(alert()), lost, "log", activities.clock())
        report = await env.run(activities.send_notification, alert())
        retried = await env.run(activities.send_notification, alert())  # it ended, unseen
    attempts = {r.channel: r.attempts for r in report.channels}
    assert report.delivered and attempts == {"log": 0, "webhook": 1}
    assert not (settings.data_dir / "notifications.jsonl").exists()  # the log was not resent
    assert [r.json()["delivery_id"] for r in peer.requests] == [lost]
    assert retried.delivered and {r.attempts for r in retried.channels} == {0}


async def test_an_open_alert_pages_again_on_a_rise_and_as_a_reminder_after_the_cooldown(
    make_settings: Any,
) -> None:
    now = [NOW]

    def health(message: str, priority: Priority = ERROR) -> Notification:
        return Notification(
            message=message, priority=priority, source="health-monitor", alert="system-health"
        )

    with http_peer() as peer:
        settings = make_settings(
            notifications=notifications(
                webhook={"enabled": True, "url": f"{peer.url}/hook"}, cooldown_seconds=600
            )
        )
        activities = NotificationActivities(settings, clock=lambda: now[0])
        sent = []
        for message, priority, wait in [
            ("A", ERROR, 0),
            ("B: details changed", ERROR, 60),
            ("C: lower", Priority.WARNING, 60),
            ("D: rises", CRITICAL, 60),
            ("E: falls", ERROR, 60),
            ("F: a reminder", ERROR, 600),
        ]:
            now[0] += wait
            report = await activities.send_notification(health(message, priority))
            sent.append(report.delivered)
        resolved = Notification(
            message="fine", priority=Priority.SUCCESS, source="health-monitor", resolves=True
        )
        assert (await activities.send_notification(resolved)).delivered
    assert sent == [True, False, False, True, False, True]
    assert [r.json()["message"] for r in peer.requests] == [
        "A",
        "D: rises",
        "F: a reminder",
        "fine",
    ]
    assert [r.json()["alert"] for r in peer.requests[:3]] == ["system-health"] * 3
    assert activities.state.active_alerts() == []
