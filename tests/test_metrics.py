"""The runner's Prometheus metrics, scraped over HTTP from a worker on the dev server.

One runtime serves this module (a runtime binds its port for the life of the process,
so each metrics module has its own); every test reads its own queue's label values,
or what changed while it ran.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.contrib.pydantic import pydantic_data_converter

from taskrunner.devserver import DevServer
from taskrunner.maintenance.models import maintenance_input
from taskrunner.maintenance.workflow import MaintenanceWorkflow
from taskrunner.observability.metrics import (
    HEALTH_METRIC,
    HEALTH_PROBE_UP,
    MAINTENANCE_LAST_SUCCESS,
    NOTIFICATIONS_TOTAL,
    QUEUE_TASKS,
    TASK_DURATION,
    TASKS_TOTAL,
)
from taskrunner.observability.runtime import worker_runtime
from taskrunner.queue.models import QueueConfig, TaskSpec
from taskrunner.queue.queries import gauge_key, status_counts
from taskrunner.queue.state import QueueState
from taskrunner.settings.observability import MetricsSettings
from taskrunner.tasks.registry import TaskExecution
from tests.helpers import assert_eventually, free_port
from tests.helpers.databases import bloated_sqlite
from tests.helpers.prometheus import Samples, listening, scrape, value
from tests.helpers.queue import running_queue
from tests.helpers.readings import SetReadings, start_health

pytestmark = pytest.mark.devserver


@dataclass
class Metered:
    client: Client
    """On the dev server, through the runtime that serves ``url``."""
    url: str

    async def scrape(self) -> Samples:
        return await scrape(self.url)


@pytest.fixture(scope="module")
async def metered(dev_server: DevServer) -> AsyncIterator[Metered]:
    address = f"127.0.0.1:{free_port()}"
    runtime = worker_runtime(MetricsSettings(address=address))
    client = await Client.connect(
        dev_server.address, data_converter=pydantic_data_converter, runtime=runtime
    )
    yield Metered(client, f"http://{address}/metrics")


async def test_each_task_is_counted_once_when_it_settles_and_each_attempt_is_timed(
    metered: Metered, settings: Any
) -> None:
    async with running_queue(metered.client, settings) as harness:
        queue = harness.queue
        runs = ["noop"] * 3 + ["flaky"] + ["doomed"] * 2 + ["hopeless"]
        await queue.enqueue_batch([TaskSpec(type=t, payload={"n": i}) for i, t in enumerate(runs)])
        later = await queue.enqueue(
            TaskSpec(type="noop", run_at=datetime.now(UTC) + timedelta(hours=1))
        )

        async def settled() -> Samples:
            stats = await queue.stats()
            assert (stats.completed, stats.failed) == (4, 3), stats
            samples = await metered.scrape()
            gauges = {s: value(samples, QUEUE_TASKS, queue=queue.name, status=s) for s in STATUSES}
            assert gauges == {"pending": 0, "scheduled": 1, "running": 0, "failed": 3}, gauges
            return samples

        await assert_eventually(settled)
        await queue.cancel(later.task_id)

        async def cancelled() -> Samples:
            samples = await metered.scrape()
            assert value(samples, QUEUE_TASKS, queue=queue.name, status="scheduled") == 0
            assert value(samples, TASKS_TOTAL, queue=queue.name, outcome="cancelled") == 1
            return samples

        samples = await assert_eventually(cancelled)

    counted = {
        (have["type"], have["outcome"]): v
        for name, have, v in samples
        if name == TASKS_TOTAL and have.get("queue") == queue.name
    }
    assert counted == {
        ("noop", "completed"): 3,
        ("flaky", "retried"): 1,
        ("flaky", "completed"): 1,
        ("doomed", "retried"): 4,  # 3 attempts each: two retried, the third failed
        ("doomed", "failed"): 2,
        ("hopeless", "failed"): 1,
        ("noop", "cancelled"): 1,
    }
    attempts = {
        t: value(samples, f"{TASK_DURATION}_count", queue=queue.name, type=t)
        for t in ("noop", "flaky", "doomed", "hopeless")
    }
    assert attempts == {"noop": 3, "flaky": 2, "doomed": 6, "hopeless": 1}
    # Seconds, with buckets for seconds: a test task takes well under one.
    fast = value(samples, f"{TASK_DURATION}_bucket", queue=queue.name, type="noop", le="1")
    assert fast == 3
    assert any(name.startswith("temporal_") for name, _, _ in samples), "no SDK metric"


STATUSES = ("pending", "scheduled", "running", "failed")


async def test_notifications_are_counted_per_channel_sent_failed_and_suppressed(
    metered: Metered, make_settings: Any, make_worker: Any
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens: the webhook fails
    with listening() as up_port:
        settings = make_settings(
            health={
                "probes": [
                    {"kind": "tcp", "name": "listening", "host": "127.0.0.1", "port": up_port},
                    {"kind": "tcp", "name": "closed", "host": "127.0.0.1", "port": free_port()},
                ]
            },
            notifications={"webhook": {"enabled": True, "url": dead}, "attempts": 1},
        )
        readings = SetReadings()
        readings.set(cpu=97.5, memory=41.0, disk=33.0)
        before = await metered.scrape()
        async with make_worker(metered.client, settings, system_reader=readings):
            first = await (await start_health(metered.client, settings)).result()
            again = await (await start_health(metered.client, settings)).result()
        assert first.alert_sent and not again.alert_sent  # the alert is open: no second page
        after = await metered.scrape()

    def moved(channel: str, outcome: str) -> float:
        labels = {"channel": channel, "outcome": outcome}
        return value(after, NOTIFICATIONS_TOTAL, **labels) - value(
            before, NOTIFICATIONS_TOTAL, **labels
        )

    assert {c: moved(c, "sent") for c in ("console", "log", "webhook")} == {
        "console": 1,
        "log": 1,
        "webhook": 0,
    }
    assert moved("webhook", "failed") == 1
    assert {c: moved(c, "suppressed") for c in ("console", "log", "webhook")} == {
        "console": 1,
        "log": 1,
        "webhook": 1,
    }
    probes = {p: value(after, HEALTH_PROBE_UP, probe=p) for p in ("listening", "closed")}
    assert probes == {"listening": 1, "closed": 0}
    readings_seen = {m: value(after, HEALTH_METRIC, metric=m) for m in ("cpu", "memory", "disk")}
    assert readings_seen == {"cpu": 97.5, "memory": 41.0, "disk": 33.0}


async def test_a_maintained_target_reports_when_it_last_succeeded(
    metered: Metered, make_settings: Any, make_worker: Any
) -> None:
    settings = make_settings()
    bloated_sqlite(settings.sqlite_path(settings.database))
    started = datetime.now(UTC).timestamp()
    async with make_worker(metered.client, settings):
        report = await metered.client.execute_workflow(
            MaintenanceWorkflow.run,
            maintenance_input(settings, force=True),
            id=f"maintenance-{uuid.uuid4()}",
            task_queue=settings.task_queue,
        )
    assert report.status == "completed"
    samples = await metered.scrape()
    [target] = report.targets
    last = value(samples, MAINTENANCE_LAST_SUCCESS, target=target.target)
    assert started - 5 <= last <= datetime.now(UTC).timestamp() + 5


def test_queue_gauges_tell_scheduled_from_due_tasks_and_skip_stale_entries() -> None:
    noop = TaskExecution(
        key="noop@1",
        activity="test_noop",
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=RetryPolicy(maximum_attempts=3),
    )
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    state = QueueState(QueueConfig(name="unit"))
    later = TaskSpec(type="noop", run_at=t0 + timedelta(hours=1))
    for task_id, spec in [("due", TaskSpec(type="noop")), ("later", later), ("gone", later)]:
        state.add(spec, task_id, t0, noop)
    state.add(TaskSpec(type="noop"), "runs", t0, noop)
    state.cancel("gone", t0)  # leaves its entry in the order's heap
    key = gauge_key(state)
    running = state.start_next(t0)
    assert running is not None and gauge_key(state) != key
    state.retry_later(running, "boom", t0 + timedelta(seconds=5))  # backs off: scheduled
    assert status_counts(state) == {"pending": 1, "scheduled": 2, "running": 0, "failed": 0}
