"""Each notification channel, called through send_notification against a real receiver."""

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
from taskrunner.notifications.models import (
    Notification,
    Priority,
)
from tests.helpers.peers import http_peer
from tests.helpers.smtp_receiver import (
    Security,
    count_tls_contexts,
    smtp_receiver,
    trusted_smtp_receiver,
)

QUIET = {"console": {"enabled": False}, "log": {"enabled": False}}
"""Only the channels a test names are on."""
FAST_RETRY = {"retry_initial_seconds": 0.05, "retry_backoff": 1.0}


def notifications(**channels: Any) -> dict[str, Any]:
    """The notifications section with only ``channels`` on, retrying fast."""
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


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
async def test_email_with_an_unset_or_empty_password_variable_fails_alone_naming_it(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("TEST_SMTP_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("TEST_SMTP_PASSWORD", value)
    with smtp_receiver(username="alerts", password="x") as box:
        smtp = {"host": box.host, "port": box.port, "username": "alerts"}
        settings = make_settings(
            smtp={**smtp, "password_env": "TEST_SMTP_PASSWORD"},
            notifications=notifications(
                email={"enabled": True, "to": ["ops@example.com"]}, log={"enabled": True}
            ),
        )
        report = await NotificationActivities(settings).send_notification(alert())
    results = {r.channel: r for r in report.channels}
    assert report.delivered and results["log"].delivered
    assert not results["email"].delivered
    assert results["email"].error == (
        "smtp.username is set but the environment variable TEST_SMTP_PASSWORD "
        "(smtp.password_env) holding the SMTP password is unset or empty: "
        "set TEST_SMTP_PASSWORD, or unset smtp.username"
    )
    assert box.messages == [] and box.logins == []


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


def test_an_enabled_email_channel_needs_recipients_and_a_server(make_settings: Any) -> None:
    with pytest.raises(ConfigError, match="no recipients"):
        make_settings(notifications={"email": {"enabled": True}})
    settings = make_settings(notifications={"email": {"enabled": True, "to": ["a@b.c"]}})
    with pytest.raises(ConfigError, match=r"smtp\.host is not set"):
        NotificationActivities(settings)


@pytest.mark.parametrize("security", ["starttls", "ssl"])
async def test_email_goes_over_tls_and_logs_in(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, security: Security
) -> None:
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "tls-pass")
    with trusted_smtp_receiver(security, tmp_path, monkeypatch, "alerts", "tls-pass") as box:
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


@pytest.mark.parametrize(("security", "contexts"), [("none", 0), ("starttls", 1), ("ssl", 1)])
async def test_email_builds_one_tls_context_for_many_alerts_and_none_without_tls(
    make_settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    security: Security,
    contexts: int,
) -> None:
    with trusted_smtp_receiver(security, tmp_path, monkeypatch) as box:
        calls = count_tls_contexts(monkeypatch)  # after the receiver built its own
        settings = make_settings(
            smtp={"host": box.host, "port": box.port, "security": security},
            notifications=notifications(email={"enabled": True, "to": ["ops@example.com"]}),
        )
        activities = NotificationActivities(settings)
        # Three different alerts, so the cooldown lets each one through.
        reports = [await activities.send_notification(alert(f"Disk {n} full")) for n in range(3)]
    assert [r.delivered for r in reports] == [True] * 3
    assert len(box.messages) == 3
    assert calls.count == contexts


@pytest.mark.parametrize(("status", "requests", "final"), [(404, 1, True), (503, 3, False)])
async def test_a_webhook_refusal_is_final_and_a_try_later_is_retried(
    make_settings: Any, status: int, requests: int, final: bool
) -> None:
    with http_peer() as peer:
        peer.routes["/hook"] = (status, b"no")  # POSTs answer like GETs
        settings = make_settings(
            notifications=notifications(webhook={"enabled": True, "url": f"{peer.url}/hook"})
        )
        report = await NotificationActivities(settings).send_notification(alert())
    assert not report.delivered
    [result] = report.channels
    assert (result.attempts, result.final) == (requests, final), result
    assert result.error == f"webhook answered HTTP {status}"
    assert len(peer.requests) == requests  # a 404 answers the same to every retry
