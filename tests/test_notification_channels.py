"""send_notification called directly, against real receivers (SMTP server, HTTP server)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.testing import ActivityEnvironment

from taskrunner.errors import ConfigError
from taskrunner.notifications.activities import NotificationActivities
from taskrunner.notifications.alert_state import (
    SUPPRESSED,
    UNDELIVERED,
    channel_failed,
)
from taskrunner.notifications.models import (
    Notification,
    Priority,
)
from tests.helpers import free_port
from tests.helpers.peers import http_peer
from tests.helpers.smtp_receiver import self_signed_certificate, smtp_receiver

QUIET = {"console": {"enabled": False}, "log": {"enabled": False}}
"""Only the channels a test names are on."""
FAST_RETRY = {"retry_initial_seconds": 0.05, "retry_backoff": 1.0}


def notifications(**channels: Any) -> dict[str, Any]:
    return {**QUIET, **FAST_RETRY, **channels}


def alert(
    message: str = "Disk almost full", priority: Priority = Priority.CRITICAL
) -> Notification:
    return Notification(message=message, priority=priority, source="health-monitor")


async def test_email_reaches_the_smtp_server_with_priority_and_source_in_the_subject(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "hunter2-smtp")
    with smtp_receiver(username="alerts", password="hunter2-smtp") as box:
        settings = make_settings(
            smtp={
                "host": box.host,
                "port": box.port,
                "username": "alerts",
                "password_env": "TEST_SMTP_PASSWORD",
            },
            notifications=notifications(
                email={"enabled": True, "to": ["ops@example.com", "oncall@example.com"]}
            ),
        )
        note = Notification(
            message="Maintenance failed: disk I/O error\nsee the logs",
            priority=Priority.ERROR,
            source="maintenance",
            fields={"database": "app"},
        )
        report = await ActivityEnvironment().run(
            NotificationActivities(settings).send_notification, note
        )
    assert report.delivered
    assert [(r.channel, r.delivered) for r in report.channels] == [("email", True)]
    [message] = box.messages
    assert (
        message["Subject"] == "[taskrunner] [ERROR] maintenance: Maintenance failed: disk I/O error"
    )
    assert message["From"] == "taskrunner@localhost"
    assert box.recipients == [["ops@example.com", "oncall@example.com"]]
    text = message.get_content().replace("\r\n", "\n")
    assert "Maintenance failed: disk I/O error\nsee the logs" in text
    assert "database: app" in text
    assert box.logins == [("alerts", "hunter2-smtp")]


async def test_email_without_its_password_variable_fails_alone(
    make_settings: Any, tmp_path: Path
) -> None:
    with smtp_receiver(username="alerts", password="x") as box:
        settings = make_settings(
            smtp={"host": box.host, "port": box.port, "username": "alerts", "password_env": "NOPE"},
            notifications=notifications(
                email={"enabled": True, "to": ["ops@example.com"]}, log={"enabled": True}
            ),
        )
        report = await NotificationActivities(settings).send_notification(alert())
    results = {r.channel: r for r in report.channels}
    assert report.delivered and results["log"].delivered
    assert not results["email"].delivered
    assert results["email"].error == "environment variable NOPE (SMTP password) is not set"
    assert box.messages == []


async def test_slack_receives_text_and_the_priority_colour(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with http_peer() as peer:
        monkeypatch.setenv("TEST_SLACK_URL", f"{peer.url}/services/T0/B0/tok")
        settings = make_settings(
            notifications=notifications(
                slack={"enabled": True, "webhook_url_env": "TEST_SLACK_URL"}
            )
        )
        activities = NotificationActivities(settings)
        await activities.send_notification(alert("Queue stuck", Priority.ERROR))
        await activities.send_notification(alert("Cache down", Priority.CRITICAL))
    assert [r.path for r in peer.requests] == ["/services/T0/B0/tok"] * 2
    error, critical = (r.json() for r in peer.requests)
    assert error["text"] == "[ERROR] health-monitor: Queue stuck"
    assert error["attachments"][0]["color"] == "danger"
    assert error["attachments"][0]["text"] == "Queue stuck"
    assert critical["attachments"][0]["color"] == "#7b0000"


async def test_webhook_body_carries_a_verifiable_hmac_signature(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", "shared-secret-123")
    with http_peer() as peer:
        settings = make_settings(
            notifications=notifications(
                webhook={
                    "enabled": True,
                    "url": f"{peer.url}/hook",
                    "secret_env": "TEST_HOOK_SECRET",
                }
            )
        )
        note = alert("Task failed after retries", Priority.ERROR).model_copy(
            update={"source": "task-queue", "fields": {"task_id": "t-1"}}
        )
        report = await NotificationActivities(settings).send_notification(note)
    assert report.delivered
    [request] = peer.requests
    expected = hmac.new(b"shared-secret-123", request.body, hashlib.sha256).hexdigest()
    assert request.headers["X-Taskrunner-Signature"] == f"sha256={expected}"
    body = request.json()
    assert body["message"] == "Task failed after retries"
    assert (body["priority"], body["source"], body["fields"]) == (
        "error",
        "task-queue",
        {"task_id": "t-1"},
    )


async def test_log_channel_appends_json_lines_in_the_data_directory(
    make_settings: Any, capsys: Any
) -> None:
    settings = make_settings(
        notifications={"log": {"enabled": True}, "console": {"enabled": True}, **FAST_RETRY}
    )
    activities = NotificationActivities(settings)
    await activities.send_notification(alert("Starting scheduled maintenance", Priority.INFO))
    await activities.send_notification(alert("Backup done", Priority.SUCCESS))
    lines = (settings.data_dir / "notifications.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["priority"], r["message"]) for r in records] == [
        ("info", "Starting scheduled maintenance"),
        ("success", "Backup done"),
    ]
    out = capsys.readouterr().out
    assert "📧 [INFO] Starting scheduled maintenance\n📧 [SUCCESS] Backup done\n" in out


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


def test_an_enabled_email_channel_needs_recipients_and_a_server(make_settings: Any) -> None:
    with pytest.raises(ConfigError, match="no recipients"):
        make_settings(notifications={"email": {"enabled": True}})
    settings = make_settings(notifications={"email": {"enabled": True, "to": ["a@b.c"]}})
    with pytest.raises(ConfigError, match=r"smtp\.host is not set"):
        NotificationActivities(settings)


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


@pytest.mark.parametrize("security", ["starttls", "ssl"])
async def test_email_goes_over_tls_and_logs_in(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, security: str
) -> None:
    certificate = self_signed_certificate(tmp_path)
    # The channel verifies the server like any client: trust the test certificate.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "tls-pass")
    with smtp_receiver("alerts", "tls-pass", tls=security, certificate=certificate) as box:  # type: ignore[arg-type]
        settings = make_settings(
            smtp={
                "host": box.host,
                "port": box.port,
                "security": security,
                "username": "alerts",
                "password_env": "TEST_SMTP_PASSWORD",
            },
            notifications=notifications(email={"enabled": True, "to": ["ops@example.com"]}),
        )
        report = await NotificationActivities(settings).send_notification(alert())
    assert report.delivered, report
    assert [m["Subject"] for m in box.messages] == [
        "[taskrunner] [CRITICAL] health-monitor: Disk almost full"
    ]
    assert box.logins == [("alerts", "tls-pass")]
