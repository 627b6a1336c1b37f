"""Daylight saving: a daily 02:30 Europe/Berlin job enqueues one task per local day.

Berlin springs forward at 02:00 on 2026-03-29 (02:30 does not exist that day) and falls
back at 03:00 on 2026-10-25 (02:30 happens twice). Backfill runs the schedule's past
fire times at once, on the dev server.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import Client, ScheduleBackfill, ScheduleOverlapPolicy

from taskrunner.jobs import operations as job_ops
from taskrunner.jobs.models import JobFireResult
from taskrunner.schedules import operations as schedule_ops
from tests.helpers.jobs import fire_runs, job_settings_factory, job_tasks, ledger_registry
from tests.helpers.queue import QueueHarness, running_queue
from tests.helpers.schedules import fire_times

BERLIN = ZoneInfo("Europe/Berlin")
DAYS = ["2026-03-28", "2026-03-29", "2026-03-30", "2026-10-24", "2026-10-25", "2026-10-26"]
RANGES = [
    (datetime(2026, 3, 28, tzinfo=BERLIN), datetime(2026, 3, 31, tzinfo=BERLIN)),
    (datetime(2026, 10, 24, tzinfo=BERLIN), datetime(2026, 10, 27, tzinfo=BERLIN)),
]
NIGHTLY = {"name": "nightly", "task": "noop", "cron": ["30 2 * * *"], "timezone": "Europe/Berlin"}


@pytest.fixture
async def harness(dev_client: Client, settings: Any) -> AsyncIterator[QueueHarness]:
    async with running_queue(dev_client, settings) as h:
        yield h


async def berlin_fires(client: Client, schedule_id: str) -> list[datetime]:
    fires: list[datetime] = []
    for start, end in RANGES:
        fires += await fire_times(client, schedule_id, start, end)
    return [f.astimezone(BERLIN) for f in fires]


async def test_a_daily_job_fires_on_both_clock_change_days(
    dev_client: Client, make_settings: Any
) -> None:
    settings = job_settings_factory(make_settings, "default")(NIGHTLY, timezone="UTC")
    await schedule_ops.apply_schedules(dev_client, settings, ledger_registry())
    fires = await berlin_fires(dev_client, f"{settings.schedules.id_prefix}job-nightly")
    per_day = Counter(f.date().isoformat() for f in fires)
    assert set(per_day) == set(DAYS)
    # 02:30 and its backup, 03:30; on the spring-forward day only 03:30 exists.
    assert {(f.hour, f.minute) for f in fires} == {(2, 30), (3, 30)}
    assert [f.hour for f in fires if f.date().isoformat() == "2026-03-29"] == [3]


async def test_a_daily_job_backfilled_over_both_clock_changes_enqueues_one_task_per_local_day(
    dev_client: Client, make_settings: Any, harness: QueueHarness
) -> None:
    settings = job_settings_factory(make_settings, harness.queue.name)(NIGHTLY)
    await schedule_ops.apply_schedules(dev_client, settings, ledger_registry())
    sid = f"{settings.schedules.id_prefix}job-nightly"
    fires = await berlin_fires(dev_client, sid)
    handle = dev_client.get_schedule_handle(sid)
    # ALLOW_ALL: every fire time starts at once, the harshest case for the key.
    await handle.backfill(
        *(ScheduleBackfill(s, e, overlap=ScheduleOverlapPolicy.ALLOW_ALL) for s, e in RANGES)
    )
    runs = await fire_runs(dev_client, sid, len(fires))
    assert len(runs) == len(fires) == 2 * len(DAYS) - 1

    prefix = f"job:{settings.schedules.id_prefix}nightly@"
    tasks = await job_tasks(harness.queue, prefix)
    assert sorted(t.spec.key or "" for t in tasks) == [prefix + day for day in DAYS]
    results = [
        await dev_client.get_workflow_handle(r.id, result_type=JobFireResult).result() for r in runs
    ]
    assert all(r.status is not None and r.status.value == "completed" for r in results)
    assert sum(r.created for r in results) == len(DAYS)


async def test_list_shows_a_daily_job_once_a_day_in_its_zone(
    dev_client: Client, make_settings: Any
) -> None:
    job = {**NIGHTLY, "timezone": "America/New_York"}
    settings = job_settings_factory(make_settings, "default")(job)
    await schedule_ops.apply_schedules(dev_client, settings, ledger_registry())
    view = await job_ops.view_job(dev_client, settings, "nightly", next_count=3)
    assert [(t.hour, t.minute) for t in view.next_runs] == [(2, 30)] * 3
    assert len({t.date() for t in view.next_runs}) == 3
    assert {t.tzname() for t in view.next_runs} <= {"EST", "EDT"}
    assert view.backup == "30 3 * * *"
