"""Notifications sent by a real workflow through the real worker (time-skipping server)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from temporalio.client import Client

from taskrunner.health.workflow import RESOLVED_MESSAGE
from taskrunner.queue.models import TaskSpec
from tests.helpers import free_port, wait_for_output
from tests.helpers.peers import http_peer
from tests.helpers.queue import QueueHarness
from tests.helpers.readings import SetReadings, check_health, start_health
from tests.helpers.smtp_receiver import smtp_receiver

FAST_RETRY = {"retry_initial_seconds": 0.05, "retry_backoff": 1.0}


def memory_breached() -> SetReadings:
    """Memory over its threshold (90%), the rest calm: an ``error`` health alert."""
    readings = SetReadings()
    readings.set(memory=95)
    return readings


def history_text(history_json: str) -> str:
    """The history JSON plus every payload decoded (payload data is base64 in the JSON)."""
    decoded: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "metadata" in node and isinstance(node.get("data"), str):
                decoded.append(base64.b64decode(node["data"]).decode("utf-8", "replace"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(history_json))
    return history_json + "\n".join(decoded)


async def test_a_dead_channel_fails_alone_and_the_health_workflow_completes(
    client: Client, make_worker: Any, make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_receiver() as box, http_peer() as peer:
        monkeypatch.setenv("TEST_SLACK_URL", f"{peer.url}/slack")
        settings = make_settings(
            smtp={"host": box.host, "port": box.port},
            notifications={
                **FAST_RETRY,
                "email": {"enabled": True, "to": ["ops@example.com"]},
                "slack": {"enabled": True, "webhook_url_env": "TEST_SLACK_URL"},
                "webhook": {"enabled": True, "url": f"http://127.0.0.1:{free_port()}/hook"},
            },
        )
        report = await check_health(client, make_worker, settings, memory_breached())
    assert report.alerted and not report.healthy
    assert [m["Subject"] for m in box.messages] == [
        "[taskrunner] [ERROR] health-monitor: System health alert:"
    ]
    assert [r.path for r in peer.requests] == ["/slack"]
    assert peer.requests[0].json()["attachments"][0]["color"] == "danger"


async def test_repeated_health_alerts_page_once_and_recovery_sends_one_resolved(
    client: Client, make_worker: Any, make_settings: Any
) -> None:
    readings = SetReadings()
    with http_peer() as peer:
        settings = make_settings(
            notifications={"webhook": {"enabled": True, "url": f"{peer.url}/hook"}, **FAST_RETRY}
        )
        # Memory stays breached while CPU flaps across its threshold: one alert, paged once.
        # Each run gets a new worker, hence a new activity instance: state is on disk.
        for cpu in (50, 95, 50):
            readings.set(memory=95, cpu=cpu)
            report = await check_health(client, make_worker, settings, readings)
            assert report.alerted
        assert len(peer.requests) == 1
        readings.set(memory=40, cpu=10)
        for _ in range(2):
            report = await check_health(client, make_worker, settings, readings)
            assert not report.alerted
    sent = [r.json() for r in peer.requests]
    assert [(s["priority"], s["resolves"]) for s in sent] == [
        ("error", False),
        ("success", True),
    ]
    assert sent[0]["message"].startswith("System health alert:")
    assert sent[0]["alert"] == "system-health"
    assert sent[1]["message"] == RESOLVED_MESSAGE


async def test_history_of_a_notifying_workflow_holds_no_secret(
    client: Client, make_worker: Any, make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    password, secret = "smtp-pass-7f3a9", "hmac-secret-c41d"
    monkeypatch.setenv("TEST_SMTP_PASSWORD", password)
    monkeypatch.setenv("TEST_HOOK_SECRET", secret)
    with smtp_receiver(username="alerts", password=password) as box, http_peer() as peer:
        slack_url = f"{peer.url}/services/T0SECRET/B0SECRET/xoxtoken"
        hook_url = f"{peer.url}/hooks/private-token"
        monkeypatch.setenv("TEST_SLACK_URL", slack_url)
        settings = make_settings(
            smtp={
                "host": box.host,
                "port": box.port,
                "username": "alerts",
                "password_env": "TEST_SMTP_PASSWORD",
            },
            notifications={
                **FAST_RETRY,
                "email": {"enabled": True, "to": ["ops@example.com"]},
                "slack": {"enabled": True, "webhook_url_env": "TEST_SLACK_URL"},
                "webhook": {"enabled": True, "url": hook_url, "secret_env": "TEST_HOOK_SECRET"},
            },
        )
        async with make_worker(client, settings, system_reader=memory_breached()):
            handle = await start_health(client, settings)
            report = await handle.result()
        history = history_text((await handle.fetch_history()).to_json())
    assert report.alerted
    assert len(box.messages) == 1 and box.logins == [("alerts", password)]
    assert sorted(r.path for r in peer.requests) == [
        "/hooks/private-token",
        "/services/T0SECRET/B0SECRET/xoxtoken",
    ]
    # The decoded payloads are searched: the alert text itself is there, secrets are not.
    assert "System health alert:" in history
    assert '"channel":"email","delivered":true' in history
    for leaked in (password, secret, slack_url, hook_url, "xoxtoken", "private-token"):
        assert leaked not in history


async def test_a_task_failing_on_its_only_attempt_is_said_in_the_singular(
    queue: QueueHarness, capsys: Any
) -> None:
    task = await queue.queue.enqueue(TaskSpec(type="hopeless"))
    # (It may fail before a drain begins: the notification is what is checked.)
    await wait_for_output(
        capsys,
        f"📧 [ERROR] Task {task.task_id} failed after 1 attempt: DiskOnFire: the disk is on fire",
    )
