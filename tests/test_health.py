"""HealthMonitorWorkflow in the time-skipping environment, with real probes.

Readings are the test's own (``SetReadings``) wherever the outcome depends on them;
the first test reads this machine through psutil, where any load gives the same result.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import Client

from taskrunner.cli.health import render_health
from taskrunner.health.models import (
    HealthReport,
    Metric,
    ServiceStatus,
    SystemMetrics,
)
from taskrunner.health.workflow import alert_message
from tests.helpers import free_port
from tests.helpers.readings import SetReadings, check_health


@pytest.fixture
async def listener() -> Any:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_health_alerts_when_a_threshold_is_crossed(
    client: Client, make_worker: Any, make_settings: Any, capsys: Any
) -> None:
    # The real reader: memory in use is always at or above 0%, whatever the load.
    settings = make_settings(health={"memory_threshold": 0})
    report = await check_health(client, make_worker, settings)
    assert not report.healthy
    assert report.alerted
    assert report.alert_message is not None
    assert "- System metrics above threshold" in report.alert_message
    assert f"Memory: {report.metrics.memory.value:.1f}% (threshold 0%)" in report.alert_message
    # A metric over its threshold (no critical threshold set) is an error, not critical.
    assert "📧 [ERROR] System health alert:" in capsys.readouterr().out


async def test_health_alerts_when_a_service_is_down(
    client: Client, make_worker: Any, make_settings: Any, capsys: Any, listener: int
) -> None:
    closed = free_port()
    probes = [
        {"kind": "tcp", "name": "api", "host": "127.0.0.1", "port": listener},
        {"kind": "tcp", "name": "cache", "host": "127.0.0.1", "port": closed},
    ]
    settings = make_settings(health={"probes": probes})
    report = await check_health(client, make_worker, settings, SetReadings())
    assert report.healthy
    assert not report.all_up
    assert report.alerted
    assert report.alert_message is not None
    assert "- Some services are down:" in report.alert_message
    assert "cache: DOWN" in report.alert_message
    assert "api: DOWN" not in report.alert_message
    assert "System metrics above threshold" not in report.alert_message
    assert report.alert_sent and report.problems() == ["service cache is DOWN"]
    assert "📧 [CRITICAL]" in capsys.readouterr().out


async def test_health_does_not_alert_when_all_is_well(
    client: Client, make_worker: Any, make_settings: Any, capsys: Any, listener: int
) -> None:
    probes = [
        {"kind": "tcp", "name": "api", "host": "127.0.0.1", "port": listener},
        {"kind": "redis", "name": "cache", "url": "redis://127.0.0.1:6379/0"},
    ]
    settings = make_settings(health={"probes": probes})
    report = await check_health(client, make_worker, settings, SetReadings())
    assert report.healthy and report.all_up
    assert not report.alerted and report.alert_message is None
    assert [s.name for s in report.services] == ["api", "cache"]
    assert report.metrics.disk.value == 30.0
    assert "📧" not in capsys.readouterr().out


async def test_health_measures_the_api_response_time(
    client: Client, make_worker: Any, make_settings: Any
) -> None:
    from tests.helpers.peers import http_peer

    with http_peer() as peer:
        settings = make_settings(health={"api_url": f"{peer.url}/ping"})
        report = await check_health(client, make_worker, settings)
    assert report.metrics.response_time_ms is not None
    assert report.metrics.response_time_ms > 0
    assert [r.path for r in peer.requests] == ["/ping"]


def unhealthy_report(sent: bool) -> HealthReport:
    """CPU over its threshold and a service down, as the workflow reports it."""
    metrics = SystemMetrics(
        cpu=Metric(name="CPU", value=95.2, threshold=90),
        memory=Metric(name="Memory", value=40.0, threshold=90),
        disk=Metric(name="Disk", value=50.0, threshold=90),
    )
    down = [ServiceStatus(name="db", kind="tcp", up=False, latency_ms=0.5, detail="refused")]
    return HealthReport(
        healthy=False,
        all_up=False,
        metrics=metrics,
        services=down,
        alerted=True,
        alert_message=alert_message(metrics, down),
        alert_sent=sent,
        checked_at="2026-12-01T00:00:00+00:00",
    )


def test_health_report_first_line_names_every_problem_and_the_alert_prints_once() -> None:
    report = unhealthy_report(sent=True)
    text = render_health(report)
    assert text.splitlines()[0] == (
        "System Health: ✗ Unhealthy: CPU 95.2% (threshold 90%), service db is DOWN"
    )
    assert text.count("System health alert:") == 1 and "✗ Alert sent:" in text
    # As the console channel printed it (held back by the command): shown once, in place.
    assert report.alert_message is not None
    console = [f"📧 [CRITICAL] {report.alert_message}"]
    shown = render_health(report, console)
    assert shown.count("System health alert:") == 1 and "✗ Alert sent" not in shown
    assert shown.endswith(console[0])


def test_health_report_says_when_the_alert_was_not_sent() -> None:
    text = render_health(unhealthy_report(sent=False))
    assert "✗ Alert not sent (notify off, the alert already open: its details updated" in text
    assert text.count("System health alert:") == 1
