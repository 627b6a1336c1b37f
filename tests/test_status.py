"""``collect_status`` on the dev server finds exactly the state a test built; the text
screen shows it; a server that is not there is a fact, not an exception."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from taskrunner.devserver import DevServer
from taskrunner.queue.models import TaskRecord, TaskSpec, TaskStatus
from taskrunner.schedules.declarations import DECLARATIONS
from taskrunner.status.collect import collect_status
from taskrunner.status.models import Status
from taskrunner.status.queues import completed_rate
from taskrunner.status.render import render_status
from tests.helpers import free_port
from tests.helpers.status import ALERT, Known, known_state, status_settings

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.devserver
async def test_status_finds_exactly_the_known_state(
    dev_server: DevServer, dev_client: Client, make_settings: Any, make_worker: Any
) -> None:
    settings = status_settings(make_settings)
    async with known_state(dev_client, settings, make_worker) as known:
        status = await collect_status(dev_client, settings)
        assert status.errors == {}
        assert status.server.reachable and status.server.address == dev_server.address
        assert_known(status, known)
        screen = render_status(status, BERLIN)
    assert_screen(screen, known)


def assert_known(status: Status, known: Known) -> None:
    settings = known.settings
    [worker] = status.workers
    assert worker.identity == settings.worker.identity
    assert worker.polls == ["workflow", "activity"]

    [queue] = status.queues
    assert queue.name == settings.queue.name and queue.error is None
    assert queue.stats is not None
    stats = queue.stats
    counts = (stats.completed, stats.failed, stats.pending, stats.running, stats.cancelled)
    assert counts == (1, 1, 1, 0, 0) and stats.paused
    assert queue.completed_per_minute == 0.2  # one task in 5 minutes
    assert queue.rate_window_minutes == 5

    assert [s.name for s in status.schedules] == [d.name for d in DECLARATIONS]
    by_name = {s.name: s for s in status.schedules}
    for fact in status.schedules:
        assert fact.error is None and fact.kind == "schedule" and not fact.paused
        assert fact.id == settings.schedules.id_prefix + fact.name
        assert fact.cron == ["0 3 1 1 *"] and fact.timezone == "Europe/Berlin"
        assert fact.next_run is not None
        assert fact.next_run.astimezone(BERLIN).strftime("%m-%d %H:%M") == "01-01 03:00"
    health = by_name["health-monitor"]
    assert (health.last_result, health.last_workflow_id) == ("completed", known.health_id)
    assert all(by_name[n].last_run is None for n in ("task-processor", "maintenance"))

    assert status.health is not None and status.health.healthy
    assert status.health_workflow_id == known.health_id
    assert status.health_at is not None
    assert datetime.now(UTC) - status.health_at < timedelta(minutes=5)

    [maintained] = status.maintenance
    assert maintained.workflow_id == known.maintenance_id
    assert maintained.outcome.target == settings.database.name
    assert maintained.outcome.status == "completed", maintained

    # Oldest first: the failed task's notification (an error page of its queue), then ours.
    assert status.alerts is not None
    found = [(a.source, a.alert, a.priority, a.message) for a in status.alerts]
    failed = f"Task {known.task_ids['failed']} failed after 1 attempt: InvalidTaskData: "
    assert found[0][:3] == (f"task-queue/{settings.queue.name}", "", "error")
    assert found[0][3].startswith(failed)
    assert found[1:] == [(*ALERT[:2], "critical", ALERT[2])]


def assert_screen(screen: str, known: Known) -> None:
    settings = known.settings
    assert re.search(r"^Server\s+127\.0\.0\.1:\d+, namespace default: reachable$", screen, re.M)
    assert f"Workers      1 polling task queue {settings.task_queue}" in screen
    assert re.search(
        rf"^  {settings.worker.identity}\s+workflow, activity\s+\d{{4}}-", screen, re.M
    )
    row = rf"^  {settings.queue.name}\s+paused\s+1\s+0\s+1\s+1\s+0\s+0\.2$"
    assert re.search(row, screen, re.M), screen
    assert re.search(
        r"^  health-monitor\s+schedule\s+active\s+\S+ \S+\s+completed\s+", screen, re.M
    )
    assert re.search(
        r"^  task-processor\s+schedule\s+active\s+-\s+-\s+\d{4}-01-01 03:00:00$", screen, re.M
    )
    assert "Health       healthy (checked " in screen
    assert re.search(r"^ {13}cpu 12\.0%, memory 40\.0%, disk 30\.0%; no probes$", screen, re.M)
    assert re.search(rf"^  {settings.database.name}\s+completed\s+\d{{4}}-", screen, re.M)
    assert re.search(r"^  status-test/disk\s+critical\s+\S+ \S+\s+disk almost full$", screen, re.M)


@pytest.mark.devserver
async def test_status_says_per_part_what_is_missing(dev_client: Client, make_settings: Any) -> None:
    # Nothing applied, no worker, no run, no alert file: each part says so, nothing fails.
    settings = status_settings(make_settings)
    status = await collect_status(dev_client, settings)
    assert status.server.reachable and status.errors == {}
    assert status.workers == []
    [queue] = status.queues
    assert queue.name == settings.queue.name and queue.stats is None
    assert queue.error is not None and "no worker polls task queue" in queue.error
    assert {s.error for s in status.schedules} == {
        "not on the server; run `taskrunner schedules apply`"
    }
    assert (status.health, status.maintenance, status.alerts) == (None, [], None)
    screen = render_status(status, BERLIN)
    assert f"Workers      NONE poll task queue {settings.task_queue}" in screen
    assert "Health       no health monitor run has completed yet" in screen
    assert "Alerts       no alert state on this machine" in screen
    assert "health-monitor: not on the server; run `taskrunner schedules apply`" in screen


async def test_no_client_or_a_server_gone_is_unreachable_not_an_exception(
    make_settings: Any,
) -> None:
    settings = make_settings()
    status = await collect_status(None, settings, unreachable="cannot reach Temporal at x")
    assert not status.server.reachable
    assert status.server.error == "cannot reach Temporal at x"
    # Nobody listens there: the lazy client's first call fails.
    address = f"127.0.0.1:{free_port()}"
    gone = await Client.connect(address, lazy=True, data_converter=pydantic_data_converter)
    status = await collect_status(gone, settings)
    assert not status.server.reachable and status.server.address == address
    assert status.server.error is not None
    assert status.server.error.startswith(f"the Temporal server at {address} does not answer")
    assert (status.workers, status.queues, status.schedules) == ([], [], [])
    assert "UNREACHABLE" in render_status(status, BERLIN)


def _completed(at: datetime, seq: int) -> TaskRecord:
    spec = TaskSpec(type="email")
    return TaskRecord(
        id=f"t{seq}",
        seq=seq,
        spec=spec,
        execution="x",
        enqueued_at=at,
        finished_at=at,
        status=TaskStatus.COMPLETED,
    )


def test_rate_counts_completions_inside_the_window() -> None:
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    recent = [_completed(now - timedelta(minutes=m), i) for i, m in enumerate([8, 4, 3, 1])]
    assert completed_rate(recent, completed_ever=4, now=now) == 0.6  # 3 in 5 minutes
    assert completed_rate([], completed_ever=0, now=now) == 0.0


def test_rate_over_a_window_that_forgot_older_completions() -> None:
    # The queue keeps its last 4 completions, all in the last 2 minutes, of 500 ever:
    # the rate is over the 2 minutes it knows, not 4 tasks in 5 minutes.
    now = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    recent = [_completed(now - timedelta(seconds=s), i) for i, s in enumerate([120, 90, 60, 30])]
    assert completed_rate(recent, completed_ever=500, now=now) == 2.0
