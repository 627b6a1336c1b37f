"""``taskrunner notify``: try the channels from the command line, read the alert state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from taskrunner.devserver import DevServer
from tests.helpers import free_port
from tests.helpers.cli import run_cli
from tests.helpers.peers import http_peer


def test_notify_send_reports_each_channel_and_status_shows_the_alert(tmp_path: Path) -> None:
    with http_peer() as peer:
        env: dict[str, Any] = {
            "TASKRUNNER_DATA_DIR": str(tmp_path / "data"),
            "TASKRUNNER_NOTIFICATIONS__WEBHOOK__ENABLED": "true",
            "TASKRUNNER_NOTIFICATIONS__WEBHOOK__URL": f"{peer.url}/hook",
        }
        sent = run_cli("notify", "send", "Disk full", "--priority", "critical", cwd=tmp_path, **env)
        assert sent.returncode == 0, sent.stderr
        assert "📧 [CRITICAL] Disk full" in sent.stdout
        assert "webhook  delivered attempts=1" in sent.stdout
        assert sent.stdout.strip().endswith("Delivered.")
        assert [r.json()["message"] for r in peer.requests] == ["Disk full"]
        again = run_cli(
            "notify", "send", "Disk full", "--priority", "critical", cwd=tmp_path, **env
        )
        assert "identical notification sent within 1800s; --force sends it anyway" in again.stdout
        assert again.returncode == 1 and len(peer.requests) == 1
        forced = run_cli(
            "notify", "send", "Disk full", "--priority", "critical", "--force", cwd=tmp_path, **env
        )
        assert forced.returncode == 0 and "webhook  delivered attempts=1" in forced.stdout
        assert [r.json()["message"] for r in peer.requests] == ["Disk full", "Disk full"]
    status = run_cli("notify", "status", cwd=tmp_path, **env)
    assert status.returncode == 0, status.stderr
    assert "Active alerts: 1\n  cli [critical] since " in status.stdout
    assert "Counters: suppressed=1" in status.stdout


def webhook_only(tmp_path: Path, url: str) -> dict[str, str]:
    """Settings with the webhook channel alone on, at ``url``, retrying at once."""
    return {
        "TASKRUNNER_DATA_DIR": str(tmp_path / "data"),
        "TASKRUNNER_NOTIFICATIONS__CONSOLE__ENABLED": "false",
        "TASKRUNNER_NOTIFICATIONS__LOG__ENABLED": "false",
        "TASKRUNNER_NOTIFICATIONS__WEBHOOK__ENABLED": "true",
        "TASKRUNNER_NOTIFICATIONS__WEBHOOK__URL": url,
        "TASKRUNNER_NOTIFICATIONS__RETRY_INITIAL_SECONDS": "0",
    }


def test_notify_send_exits_1_when_no_channel_delivers(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/x"
    result = run_cli("notify", "send", "hello", cwd=tmp_path, **webhook_only(tmp_path, url))
    assert result.returncode == 1
    assert "webhook  FAILED    attempts=3  ConnectError" in result.stdout
    assert "Not delivered." in result.stdout


def test_email_channel_without_smtp_host_is_one_line_error(tmp_path: Path) -> None:
    result = run_cli(
        "notify",
        "send",
        "hello",
        cwd=tmp_path,
        TASKRUNNER_NOTIFICATIONS__EMAIL__ENABLED="true",
        TASKRUNNER_NOTIFICATIONS__EMAIL__TO='["ops@example.com"]',
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: the email notification channel is enabled but smtp.host is not set "
        "(set TASKRUNNER_SMTP__HOST or disable TASKRUNNER_NOTIFICATIONS__EMAIL__ENABLED)"
    ]


def test_a_repeated_health_alert_updates_the_open_alert_that_notify_status_shows(
    tmp_path: Path, dev_server: DevServer
) -> None:
    env = {
        "TEMPORAL_ADDRESS": dev_server.address,
        "TASKRUNNER_TASK_QUEUE": f"cli-{free_port()}",
        "TASKRUNNER_DATA_DIR": str(tmp_path / "data"),
        # Memory in use is always at or above 0%: the same alert on every run, an error.
        "TASKRUNNER_HEALTH__MEMORY_THRESHOLD": "0",
        "TASKRUNNER_HEALTH__CPU_THRESHOLD": "100",
        "TASKRUNNER_HEALTH__DISK_THRESHOLD": "100",
    }
    first = run_cli("health", cwd=tmp_path, **env)
    assert first.returncode == 1, first.stderr
    assert first.stdout.startswith("System Health: ✗ Unhealthy: Memory "), first.stdout
    assert first.stdout.count("System health alert:") == 1, first.stdout
    assert "📧 [ERROR] System health alert:" in first.stdout
    second = run_cli("health", cwd=tmp_path, **env)
    assert second.returncode == 1, second.stderr
    # Not paged again: the report shows the details, once, and says why it did not page.
    assert "📧" not in second.stdout and second.stdout.count("System health alert:") == 1
    assert "✗ Alert not sent (notify off, the alert already open" in second.stdout
    status = run_cli("notify", "status", cwd=tmp_path, **env)
    assert status.returncode == 0, status.stderr
    assert "Active alerts: 1\n  health-monitor/system-health [error] since " in status.stdout
    assert ", updated " in status.stdout and ": System health alert:" in status.stdout
    assert "Counters: updated=1" in status.stdout


def test_notify_send_tries_a_webhook_that_answers_404_once(tmp_path: Path) -> None:
    with http_peer() as peer:
        peer.routes["/gone"] = (404, b"no such hook")
        env = webhook_only(tmp_path, f"{peer.url}/gone")
        result = run_cli("notify", "send", "hello", cwd=tmp_path, **env)
    assert result.returncode == 1, result.stderr
    assert "webhook  FAILED    attempts=1  webhook answered HTTP 404" in result.stdout
    assert len(peer.requests) == 1  # a revoked hook answers the same to every retry
