"""How send_notification delivers: bounded retries, minimum priorities, cooldown, alert state."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from taskrunner.errors import ConfigError
from taskrunner.notifications.activities import NotificationActivities
from taskrunner.notifications.alert_state import (
    SUPPRESSED,
    UNDELIVERED,
    OpenAlert,
    channel_failed,
)
from taskrunner.notifications.models import (
    Notification,
    Priority,
)
from tests.helpers import free_port
from tests.helpers.peers import http_peer
from tests.test_notification_channels import alert, notifications


async def test_a_channel_on_a_closed_port_fails_alone_after_bounded_retries(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with http_peer() as peer:
        monkeypatch.setenv("TEST_SLACK_URL", f"{peer.url}/slack")
        settings = make_settings(
            notifications=notifications(
                slack={"enabled": True, "webhook_url_env": "TEST_SLACK_URL"},
                webhook={"enabled": True, "url": f"http://127.0.0.1:{free_port()}/hook"},
            )
        )
        activities = NotificationActivities(settings)
        report = await activities.send_notification(alert())
    results = {r.channel: r for r in report.channels}
    assert report.delivered
    assert results["slack"].delivered and results["slack"].attempts == 1
    assert not results["webhook"].delivered and results["webhook"].attempts == 3
    assert results["webhook"].error and "ConnectError" in results["webhook"].error
    assert [r.path for r in peer.requests] == ["/slack"]  # not resent while webhook retried
    assert activities.state.counters() == {channel_failed("webhook"): 1}


async def test_an_erroring_receiver_is_retried_then_counted_undelivered(make_settings: Any) -> None:
    with http_peer() as peer:
        peer.routes["/hook"] = (500, b"boom")
        settings = make_settings(
            notifications=notifications(webhook={"enabled": True, "url": f"{peer.url}/hook"})
        )
        activities = NotificationActivities(settings)
        report = await activities.send_notification(alert())
        assert not report.delivered and not report.suppressed
        assert report.channels[0].error == "webhook answered HTTP 500"
        assert len(peer.requests) == 3
        # Nobody heard it, so it is not in cooldown: the next identical one is tried again.
        await activities.send_notification(alert())
        assert len(peer.requests) == 6
    assert activities.state.counters() == {UNDELIVERED: 2, channel_failed("webhook"): 2}


async def test_a_channel_with_minimum_error_receives_error_and_critical_only(
    make_settings: Any,
) -> None:
    with http_peer() as peer:
        settings = make_settings(
            notifications=notifications(
                webhook={"enabled": True, "url": f"{peer.url}/hook", "min_priority": "error"},
                log={"enabled": True},
            )
        )
        activities = NotificationActivities(settings)
        for priority in Priority:
            await activities.send_notification(alert(f"{priority} happened", priority))
    assert [r.json()["priority"] for r in peer.requests] == ["error", "critical"]
    logged = (settings.data_dir / "notifications.jsonl").read_text().splitlines()
    assert len(logged) == len(Priority)


async def test_identical_alerts_inside_the_cooldown_are_suppressed_and_counted(
    make_settings: Any,
) -> None:
    now = [1_000_000.0]
    with http_peer() as peer:
        settings = make_settings(
            notifications=notifications(
                webhook={"enabled": True, "url": f"{peer.url}/hook"}, cooldown_seconds=600
            )
        )
        activities = NotificationActivities(settings, clock=lambda: now[0])
        reports = []
        for _ in range(3):
            reports.append(await activities.send_notification(alert()))
            now[0] += 60
        assert [(r.delivered, r.suppressed) for r in reports] == [
            (True, False),
            (False, True),
            (False, True),
        ]
        assert len(peer.requests) == 1
        # A different message, or the same priority from elsewhere, is news.
        await activities.send_notification(alert("Memory almost full"))
        assert len(peer.requests) == 2
        now[0] += 600  # the cooldown of the first alert is over
        assert (await activities.send_notification(alert())).delivered
        assert len(peer.requests) == 3
    assert activities.state.counters()[SUPPRESSED] == 2


async def test_cooldown_and_alert_state_survive_a_new_activity_instance(make_settings: Any) -> None:
    with http_peer() as peer:
        settings = make_settings(
            notifications=notifications(webhook={"enabled": True, "url": f"{peer.url}/hook"})
        )
        await NotificationActivities(settings).send_notification(alert())
        restarted = NotificationActivities(settings)  # a new worker process, same data dir
        assert (await restarted.send_notification(alert())).suppressed
        resolved = Notification(message="All good", source="health-monitor", resolves=True)
        assert (await restarted.send_notification(resolved)).delivered
        again = await NotificationActivities(settings).send_notification(resolved)
        assert again.suppressed and not again.delivered
        # After recovery the same alert pages again at once.
        assert (await NotificationActivities(settings).send_notification(alert())).delivered
    assert [r.json()["resolves"] for r in peer.requests] == [False, True, False]


async def test_resolved_goes_to_the_channels_that_heard_the_alert(make_settings: Any) -> None:
    with http_peer() as peer:
        settings = make_settings(
            notifications=notifications(
                webhook={"enabled": True, "url": f"{peer.url}/hook", "min_priority": "error"}
            )
        )
        activities = NotificationActivities(settings)
        quiet = Notification(
            message="Fine", priority=Priority.SUCCESS, source="health-monitor", resolves=True
        )
        assert (await activities.send_notification(quiet)).suppressed  # nothing to resolve
        await activities.send_notification(alert("Queue stuck", Priority.ERROR))
        report = await activities.send_notification(quiet)
    assert report.delivered
    assert [(r.json()["priority"], r.json()["resolves"]) for r in peer.requests] == [
        ("error", False),
        ("success", True),
    ]


def test_retry_settings_must_fit_the_activity_timeout(make_settings: Any) -> None:
    with pytest.raises(ConfigError, match=r"TASKRUNNER_NOTIFICATIONS.*lower attempts"):
        make_settings(notifications={"attempts": 10, "webhook": {"timeout_seconds": 30}})


async def test_an_unusable_state_file_fails_open_and_alerts_still_go_out(
    make_settings: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    with http_peer() as peer:
        settings = make_settings(
            notifications=notifications(
                webhook={"enabled": True, "url": f"{peer.url}/hook"},
                state_path=blocker / "notifications.db",
            )
        )
        activities = NotificationActivities(settings)
        reports = [await activities.send_notification(alert()) for _ in range(2)]
    assert [r.delivered for r in reports] == [True, True]
    assert len(peer.requests) == 2


async def test_an_earlier_versions_open_alert_carries_over_and_is_resolved_once(
    make_settings: Any,
) -> None:
    with http_peer() as peer:
        settings = make_settings(
            notifications=notifications(webhook={"enabled": True, "url": f"{peer.url}/hook"})
        )
        path = settings.notifications.state_file(settings.data_dir)
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(path)) as db, db:
            db.executescript(
                "CREATE TABLE notification_sent (key TEXT PRIMARY KEY, source TEXT NOT NULL, "
                "sent_at REAL NOT NULL);"
                "CREATE TABLE active_alert (source TEXT PRIMARY KEY, priority TEXT NOT NULL, "
                "since REAL NOT NULL, message TEXT NOT NULL);"
                "INSERT INTO notification_sent VALUES ('old-key', 'health-monitor', 1000.0);"
                "INSERT INTO active_alert VALUES "
                "('health-monitor', 'critical', 1000.0, 'System health alert: disk');"
            )
        activities = NotificationActivities(settings)  # the upgraded worker, same data dir
        assert activities.state.active_alerts() == [
            OpenAlert(
                "health-monitor", "", Priority.CRITICAL, 1000.0, 1000.0, "System health alert: disk"
            )
        ]
        resolved = Notification(message="All good", source="health-monitor", resolves=True)
        assert (await activities.send_notification(resolved)).delivered
        assert not (await activities.send_notification(resolved)).delivered
    assert [(r.json()["message"], r.json()["resolves"]) for r in peer.requests] == [
        ("All good", True)
    ]
    with closing(sqlite3.connect(path)) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert not tables & {"active_alert", "notification_sent"}
