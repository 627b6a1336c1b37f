"""Daylight saving: daily maintenance runs exactly once per local day, DST days included.

Europe/Berlin springs forward at 02:00 on 2026-03-29 (02:00 does not exist) and
falls back at 03:00 on 2026-10-25 (02:00-03:00 happens twice). Backfill runs the
schedule's past fire times at once, on the dev server (it implements schedules).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.client import Client, ScheduleBackfill, ScheduleOverlapPolicy

from taskrunner.maintenance.models import MaintenanceReport
from taskrunner.schedules import operations as schedule_ops
from taskrunner.settings import Settings
from tests.helpers.schedules import finished_runs, fire_times

BERLIN = ZoneInfo("Europe/Berlin")
DAYS = ["2026-03-28", "2026-03-29", "2026-03-30", "2026-10-24", "2026-10-25", "2026-10-26"]
RANGES = [
    (datetime(2026, 3, 28, tzinfo=BERLIN), datetime(2026, 3, 31, tzinfo=BERLIN)),
    (datetime(2026, 10, 24, tzinfo=BERLIN), datetime(2026, 10, 27, tzinfo=BERLIN)),
]


def berlin_settings(make_settings: Any) -> Settings:
    settings: Settings = make_settings(
        timezone="Europe/Berlin", schedules={"id_prefix": f"dst{uuid.uuid4().hex[:6]}-"}
    )
    settings.data_dir.mkdir(parents=True)
    with sqlite3.connect(settings.sqlite_path(settings.database)) as db:
        db.execute("CREATE TABLE jobs (id INTEGER PRIMARY KEY, name TEXT)")
        db.executemany("INSERT INTO jobs (name) VALUES (?)", [("x" * 100,)] * 50)
    return settings


async def test_fire_times_cover_both_dst_days(dev_client: Client, make_settings: Any) -> None:
    settings = berlin_settings(make_settings)
    await schedule_ops.apply_schedules(dev_client, settings)
    sid = settings.schedules.id_prefix + "maintenance"
    fires: list[datetime] = []
    for start, end in RANGES:
        fires += await fire_times(dev_client, sid, start, end)
    per_day = Counter(f.astimezone(BERLIN).date().isoformat() for f in fires)
    # Every local day has at least one fire inside the window, DST days included ...
    assert set(per_day) == set(DAYS)
    assert all(f.astimezone(BERLIN).hour in (2, 3) for f in fires)
    # ... and 02:00 does not exist on the spring-forward day.
    assert per_day["2026-03-29"] == 1


async def test_maintenance_runs_exactly_once_per_local_day(
    dev_client: Client, make_settings: Any, make_worker: Any
) -> None:
    settings = berlin_settings(make_settings)
    await schedule_ops.apply_schedules(dev_client, settings)
    prefix = settings.schedules.id_prefix
    handle = dev_client.get_schedule_handle(prefix + "maintenance")
    async with make_worker(dev_client, settings):
        # ALLOW_ALL: every fire time starts at once, the harshest case for the guard.
        await handle.backfill(
            *(ScheduleBackfill(s, e, overlap=ScheduleOverlapPolicy.ALLOW_ALL) for s, e in RANGES)
        )
        # Two fires a day, one on 03-29.
        runs = await finished_runs(dev_client, f"{prefix}maintenance/", guards=len(DAYS) + 4)

    maintenance = [w for w in runs if w.workflow_type == "MaintenanceWorkflow"]
    assert sorted(w.id for w in maintenance) == [f"{prefix}maintenance/{day}" for day in DAYS]
    for run in maintenance:
        report = await dev_client.get_workflow_handle(
            run.id, result_type=MaintenanceReport
        ).result()
        assert report.status == "completed", (run.id, report.reason)
        assert report.local_time.startswith(run.id.rsplit("/", 1)[1])
