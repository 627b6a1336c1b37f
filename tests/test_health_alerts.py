"""The health alert's identity (source + alert name) and severity, on injected readings.

Every run here reads the test's numbers (``SetReadings``), never this machine's
load, through the real worker, workflow and notification activity.
"""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import Client

from taskrunner.errors import ConfigError
from taskrunner.health.models import Metric, SystemMetrics
from taskrunner.health.workflow import (
    ALERT,
    SOURCE,
    alert_message,
    alert_severity,
)
from taskrunner.notifications.activities import NotificationActivities
from taskrunner.notifications.alert_state import UPDATED
from taskrunner.notifications.models import Priority
from tests.helpers import free_port
from tests.helpers.peers import HttpPeer, http_peer
from tests.helpers.readings import SetReadings, check_health
from tests.test_notification_channels import notifications


def hooked(peer: HttpPeer) -> dict[str, Any]:
    """Notifications to ``peer``'s webhook only, retrying fast."""
    return notifications(webhook={"enabled": True, "url": f"{peer.url}/hook"})


def pages(peer: HttpPeer) -> list[tuple[str, bool]]:
    return [(r.json()["priority"], r.json()["resolves"]) for r in peer.requests]


async def test_flapping_details_update_the_open_alert_and_page_once(
    client: Client, make_worker: Any, make_settings: Any
) -> None:
    readings = SetReadings()
    with http_peer() as peer:
        settings = make_settings(notifications=hooked(peer))
        reports = []
        # Memory stays over 90%; CPU and disk cross their thresholds and back.
        for cpu, disk in [(50, 30), (95, 30), (50, 92), (95, 92), (50, 30)]:
            readings.set(memory=95, cpu=cpu, disk=disk)
            reports.append(await check_health(client, make_worker, settings, readings))
    assert [r.alerted for r in reports] == [True] * 5
    assert [r.alert_sent for r in reports] == [True, False, False, False, False]
    assert pages(peer) == [("error", False)]
    state = NotificationActivities(settings).state
    [open_alert] = state.active_alerts()
    assert (open_alert.source, open_alert.alert) == (SOURCE, ALERT)
    # The open alert holds the latest details: the last run's, CPU and disk calm again.
    assert open_alert.message == reports[-1].alert_message
    assert open_alert.updated_at > open_alert.since
    assert state.counters()[UPDATED] == 4


async def test_a_rise_in_severity_pages_again_and_a_fall_does_not(
    client: Client, make_worker: Any, make_settings: Any
) -> None:
    readings = SetReadings()
    with http_peer() as peer:
        settings = make_settings(
            health={"memory_critical_threshold": 98}, notifications=hooked(peer)
        )
        sent = []
        for memory in (95, 99, 95, 99):
            readings.set(memory=memory)
            sent.append((await check_health(client, make_worker, settings, readings)).alert_sent)
        readings.set(memory=40)
        recovered = await check_health(client, make_worker, settings, readings)
        await check_health(client, make_worker, settings, readings)  # still fine: nothing more
    assert sent == [True, True, False, False] and not recovered.alerted
    assert pages(peer) == [("error", False), ("critical", False), ("success", True)]
    assert "Memory: 99.0% (critical threshold 98%)" in peer.requests[1].json()["message"]
    assert NotificationActivities(settings).state.active_alerts() == []


async def test_a_service_going_down_while_a_metric_is_breached_pages_as_critical(
    client: Client, make_worker: Any, make_settings: Any
) -> None:
    readings = SetReadings()
    readings.set(memory=95)
    down = {"kind": "tcp", "name": "db", "host": "127.0.0.1", "port": free_port()}
    with http_peer() as peer:
        breached = make_settings(notifications=hooked(peer))
        first = await check_health(client, make_worker, breached, readings)
        also_down = make_settings(health={"probes": [down]}, notifications=hooked(peer))
        second = await check_health(client, make_worker, also_down, readings)
    assert first.alert_sent and second.alert_sent
    assert pages(peer) == [("error", False), ("critical", False)]
    assert "db: DOWN" in peer.requests[1].json()["message"]


def test_severity_is_critical_for_a_service_down_or_a_critical_threshold() -> None:
    def metrics(memory: float) -> SystemMetrics:
        return SystemMetrics(
            cpu=Metric(name="CPU", value=10, threshold=90),
            memory=Metric(name="Memory", value=memory, threshold=90, critical_threshold=98),
            disk=Metric(name="Disk", value=10, threshold=90),
        )

    assert alert_severity(metrics(95), []) == Priority.ERROR
    assert alert_severity(metrics(98), []) == Priority.CRITICAL
    assert "  Memory: 98.0% (critical threshold 98%)" in alert_message(metrics(98), [])
    assert "  Memory: 95.0% (threshold 90%)" in alert_message(metrics(95), [])


def test_a_critical_threshold_below_its_threshold_is_refused(make_settings: Any) -> None:
    with pytest.raises(
        ConfigError, match=r"disk_critical_threshold \(80\) is below disk_threshold"
    ):
        make_settings(health={"disk_critical_threshold": 80})
