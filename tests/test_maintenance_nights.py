"""The nights the maintenance schedule runs: a window over midnight, a fresh install's first.

On the dev server (it implements schedules): the server lists the fire times, and a
backfill runs past fire times at once. BUFFER_ALL runs them one after another in
their order, as the nights would.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.client import Client, ScheduleBackfill, ScheduleOverlapPolicy

from taskrunner.maintenance.models import MaintenanceReport
from taskrunner.schedules import operations as schedule_ops
from taskrunner.settings import Settings
from tests.helpers.databases import bloated_sqlite
from tests.helpers.schedules import finished_runs, fire_times

NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
NIGHTS = ["2026-06-10", "2026-06-11", "2026-06-12"]
"""Three nights of June, their windows opening at 23:00 New York time."""
FROM = datetime(2026, 6, 10, 22, 0, tzinfo=NEW_YORK)
TO = datetime(2026, 6, 13, 1, 30, tzinfo=NEW_YORK)


def schedule_settings(make_settings: Any, **overrides: Any) -> Settings:
    settings: Settings = make_settings(
        schedules={"id_prefix": f"night{uuid.uuid4().hex[:6]}-"}, **overrides
    )
    return settings


async def maintenance_reports(client: Client, runs: list[Any]) -> dict[str, MaintenanceReport]:
    return {
        run.id: await client.get_workflow_handle(run.id, result_type=MaintenanceReport).result()
        for run in runs
        if run.workflow_type == "MaintenanceWorkflow"
    }


async def test_a_window_over_midnight_runs_once_a_night_at_its_start(
    dev_client: Client, make_settings: Any, make_worker: Any
) -> None:
    settings = schedule_settings(
        make_settings,
        timezone="America/New_York",
        maintenance={"window_start": "23:00", "window_end": "01:00"},
    )
    bloated_sqlite(settings.sqlite_path(settings.database), rows=100, kept=10)
    await schedule_ops.apply_schedules(dev_client, settings)
    prefix = settings.schedules.id_prefix
    fires = await fire_times(dev_client, prefix + "maintenance", FROM, TO)
    # The window's start and its middle (kept for daylight saving), two local dates apart.
    assert [f"{f.astimezone(NEW_YORK):%d %H:%M}" for f in fires] == [
        *("10 23:00", "11 00:00", "11 23:00", "12 00:00", "12 23:00", "13 00:00")
    ]

    handle = dev_client.get_schedule_handle(prefix + "maintenance")
    async with make_worker(dev_client, settings):
        await handle.backfill(ScheduleBackfill(FROM, TO, overlap=ScheduleOverlapPolicy.BUFFER_ALL))
        runs = await finished_runs(dev_client, f"{prefix}maintenance/", guards=len(fires))

    reports = await maintenance_reports(dev_client, runs)
    assert sorted(reports) == [f"{prefix}maintenance/{night}" for night in NIGHTS]
    for night in NIGHTS:
        report = reports[f"{prefix}maintenance/{night}"]
        assert report.status == "completed", report
        assert report.local_time.startswith(f"{night}T23:00:00"), report.local_time
        assert len(report.backups) == 1
    guards = [
        await dev_client.get_workflow_handle(
            w.id, run_id=w.run_id, result_type=MaintenanceReport
        ).result()
        for w in runs
        if w.workflow_type == "DailyMaintenanceWorkflow"
    ]
    skipped = sorted(g.reason or "" for g in guards if g.status == "skipped")
    assert skipped == [
        f"Maintenance for the night of {night} already ran ({prefix}maintenance/{night})"
        for night in NIGHTS
    ]


async def test_the_first_scheduled_night_of_a_fresh_install_sends_no_error(
    dev_client: Client, make_settings: Any, make_worker: Any
) -> None:
    settings = schedule_settings(make_settings)  # defaults: UTC, 02:00-04:00, app.db
    assert not settings.data_dir.exists()
    await schedule_ops.apply_schedules(dev_client, settings)
    prefix = settings.schedules.id_prefix
    start = datetime(2026, 6, 10, 1, 0, tzinfo=UTC)
    end = datetime(2026, 6, 10, 5, 0, tzinfo=UTC)  # two fires: 02:00 and 03:00
    handle = dev_client.get_schedule_handle(prefix + "maintenance")
    async with make_worker(dev_client, settings):
        await handle.backfill(
            ScheduleBackfill(start, end, overlap=ScheduleOverlapPolicy.BUFFER_ALL)
        )
        runs = await finished_runs(dev_client, f"{prefix}maintenance/", guards=2)

    [report] = (await maintenance_reports(dev_client, runs)).values()
    assert report.status == "completed"
    assert [(t.target, t.status) for t in report.targets] == [("app", "absent")]
    sent = [
        json.loads(line)
        for line in (settings.data_dir / "notifications.jsonl").read_text().splitlines()
    ]
    assert [n["priority"] for n in sent] == ["info", "success"]
    assert sent[1]["message"].startswith("Maintenance completed:\n- app: nothing to maintain yet")
