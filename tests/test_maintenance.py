"""MaintenanceWorkflow in the time-skipping environment, on a real SQLite file.

The test server's clock starts at the real time; each test moves it forward to
a chosen local time in a non-UTC zone before starting the workflow.
"""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment

from taskrunner.maintenance.activities import (
    DatabaseActivities,
    run_heartbeating,
)
from taskrunner.maintenance.models import (
    MaintenanceInput,
    MaintenanceReport,
    TargetInput,
    maintenance_input,
)
from taskrunner.maintenance.workflow import MaintenanceWorkflow
from taskrunner.settings import Settings
from tests.helpers.databases import POSTGRES_DSN, bloated_sqlite, postgres_table, row_counts

BERLIN = "Europe/Berlin"
NEW_YORK = "America/New_York"


async def skip_to_local(env: WorkflowEnvironment, zone: str, hour: int, minute: int) -> datetime:
    """Move the test server's clock to the next ``hour:minute`` in ``zone``."""
    now = await env.get_current_time()
    local = now.astimezone(ZoneInfo(zone))
    target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= local + timedelta(minutes=1):
        target += timedelta(days=1)  # wall-clock arithmetic: same local time tomorrow
    await env.sleep(target.astimezone(UTC) - now)
    return target


async def run_maintenance(
    client: Client, make_worker: Any, settings: Settings, params: MaintenanceInput
) -> tuple[MaintenanceReport, str]:
    workflow_id = f"maintenance-{uuid.uuid4()}"
    async with make_worker(client, settings):
        report = await client.execute_workflow(
            MaintenanceWorkflow.run, params, id=workflow_id, task_queue=settings.task_queue
        )
    return report, workflow_id


def app_settings(
    make_settings: Any, zone: str, **overrides: Any
) -> tuple[Settings, dict[str, int]]:
    settings = make_settings(timezone=zone, **overrides)
    counts = bloated_sqlite(settings.sqlite_path(settings.database))
    return settings, counts


async def test_maintenance_inside_the_window_runs_every_step(
    env: WorkflowEnvironment, client: Client, make_worker: Any, make_settings: Any, capsys: Any
) -> None:
    settings, counts = app_settings(make_settings, BERLIN)
    await skip_to_local(env, BERLIN, 3, 15)
    report, _ = await run_maintenance(client, make_worker, settings, maintenance_input(settings))

    assert report.status == "completed"
    assert report.window_open and not report.forced
    assert report.local_time[11:16] == "03:15" and report.timezone == BERLIN
    [vacuum] = report.vacuum
    assert vacuum.target == "app" and vacuum.freed_bytes > 1_000_000
    assert [a.tables for a in report.analyze] == [2]
    [backup] = report.backups
    assert Path(backup.file).parent == settings.backups_dir / "app"
    assert row_counts(Path(backup.file)) == counts
    assert backup.verification == "integrity_check ok"
    assert [p.kept for p in report.pruned] == [[backup.file]]
    out = capsys.readouterr().out
    assert "📧 [INFO] Starting scheduled maintenance" in out
    assert f"📧 [SUCCESS] {report.summary}" in out
    assert report.summary is not None
    assert report.summary.startswith("Maintenance completed:\n- Vacuum: ")
    assert "\n- Analyze: 2 tables\n- Backup: " in report.summary
    assert report.summary.endswith(f"({backup.file})")


async def test_maintenance_outside_the_window_is_skipped_without_an_error(
    env: WorkflowEnvironment, client: Client, make_worker: Any, make_settings: Any, capsys: Any
) -> None:
    settings, _ = app_settings(make_settings, NEW_YORK)
    await skip_to_local(env, NEW_YORK, 14, 0)
    report, workflow_id = await run_maintenance(
        client, make_worker, settings, maintenance_input(settings)
    )

    assert report.status == "skipped"
    assert report.reason == "Outside maintenance window - skipping"
    assert not report.window_open
    assert report.local_time[11:16] == "14:00"
    assert report.local_time.endswith(("-05:00", "-04:00"))
    assert not report.vacuum and not report.backups
    assert "📧" not in capsys.readouterr().out
    assert not settings.backups_dir.exists()
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    types = {event.event_type for event in history.events}
    assert EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED not in types
    assert EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED in types


async def test_forced_maintenance_runs_outside_the_window(
    env: WorkflowEnvironment, client: Client, make_worker: Any, make_settings: Any, capsys: Any
) -> None:
    settings, _ = app_settings(
        make_settings, BERLIN, maintenance={"window_start": "23:30", "window_end": "00:30"}
    )
    await skip_to_local(env, BERLIN, 12, 0)
    params = maintenance_input(settings, force=True)
    report, _ = await run_maintenance(client, make_worker, settings, params)

    assert report.status == "completed"
    assert report.forced and not report.window_open
    assert report.window == "23:30-00:30"
    assert len(report.backups) == 1 and Path(report.backups[0].file).is_file()
    assert "📧 [SUCCESS] Maintenance completed:" in capsys.readouterr().out


async def test_maintenance_covers_every_target_sqlite_and_postgres(
    client: Client, make_worker: Any, make_settings: Any
) -> None:
    with postgres_table() as table:
        settings = make_settings(
            maintenance={
                "targets": [
                    {"name": "app"},
                    {"name": "pg", "kind": "postgres", "dsn": POSTGRES_DSN},
                ]
            }
        )
        bloated_sqlite(settings.sqlite_path(settings.database))
        params = maintenance_input(settings, force=True)
        report, _ = await run_maintenance(client, make_worker, settings, params)

    assert [v.target for v in report.vacuum] == ["app", "pg"]
    assert [(b.target, b.engine) for b in report.backups] == [("app", "sqlite"), ("pg", "postgres")]
    pg_backup = report.backups[1]
    assert pg_backup.file.endswith(".dump") and pg_backup.location == "127.0.0.1:5432/test"
    listing = subprocess.run(
        ["pg_restore", "--list", pg_backup.file], capture_output=True, text=True, check=True
    ).stdout
    assert f"TABLE public {table} " in listing
    assert report.summary is not None
    assert report.summary.count("\n- Backup: ") == 2


async def test_a_window_spanning_midnight_is_open_after_midnight(
    env: WorkflowEnvironment, client: Client, make_worker: Any, make_settings: Any
) -> None:
    settings, _ = app_settings(
        make_settings, NEW_YORK, maintenance={"window_start": "23:30", "window_end": "00:30"}
    )
    await skip_to_local(env, NEW_YORK, 0, 10)
    report, _ = await run_maintenance(client, make_worker, settings, maintenance_input(settings))
    assert report.status == "completed" and report.window_open


async def test_a_failing_backup_retries_then_alerts_and_fails_the_workflow(
    client: Client, make_worker: Any, make_settings: Any, capsys: Any
) -> None:
    settings, _ = app_settings(make_settings, BERLIN)
    # A regular file where the backups folder should be: even root cannot write there.
    settings.backups_dir.write_text("not a folder")
    workflow_id = f"maintenance-{uuid.uuid4()}"
    async with make_worker(client, settings):
        with pytest.raises(WorkflowFailureError) as caught:
            await client.execute_workflow(
                MaintenanceWorkflow.run,
                maintenance_input(settings, force=True),
                id=workflow_id,
                task_queue=settings.task_queue,
            )
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "BackupFolderError"
    assert (
        cause.message
        == f"cannot create backup folder {settings.backups_dir / 'app'}: Not a directory"
    )

    out = capsys.readouterr().out
    assert f"📧 [ERROR] Maintenance failed: {cause.message}" in out
    assert "📧 [SUCCESS]" not in out
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    scheduled = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    }
    attempts = {
        scheduled[e.activity_task_started_event_attributes.scheduled_event_id]: (
            e.activity_task_started_event_attributes.attempt
        )
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
    }
    assert attempts["backup_database"] == 3
    assert attempts["vacuum_database"] == 1
    assert "prune_backups" not in attempts


async def test_retention_keeps_exactly_the_newest_backups(make_settings: Any) -> None:
    settings, _ = app_settings(make_settings, BERLIN, maintenance={"keep_backups": 2})
    activities = DatabaseActivities(settings)
    env = ActivityEnvironment()
    app = TargetInput(target="app")
    stranger = settings.backups_dir / "app" / "notes.txt"
    made = []
    for _ in range(4):
        made.append((await env.run(activities.backup_database, app)).file)
        stranger.write_text("not a backup: never pruned")
        pruned = await env.run(activities.prune_backups, app)

    remaining = sorted(str(p) for p in (settings.backups_dir / "app").glob("app-*.db"))
    assert remaining == sorted(made[-2:])
    assert pruned.kept == [made[3], made[2]]
    assert pruned.removed == [made[1]]  # made[0] went in the previous run
    assert stranger.exists()


async def test_unknown_target_is_a_non_retryable_configuration_error(make_settings: Any) -> None:
    activities = DatabaseActivities(make_settings())
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(activities.vacuum_database, TargetInput(target="nope"))
    assert caught.value.type == "ConfigurationError" and caught.value.non_retryable
    assert "unknown maintenance target 'nope' (this worker has: app)" in caught.value.message


async def test_long_steps_heartbeat_and_a_cancel_interrupts_the_database_work() -> None:
    stopped = threading.Event()
    beats: list[Any] = []

    def work() -> str:
        # Stands in for a long VACUUM: runs until interrupted.
        stopped.wait(timeout=60)
        return "interrupted" if stopped.is_set() else "timed out"

    async def step() -> str:
        return await run_heartbeating(work, stopped.set)

    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_timeout=timedelta(milliseconds=150))
    env.on_heartbeat = lambda *details: beats.append(details)
    running = asyncio.ensure_future(env.run(step))
    while len(beats) < 2:
        await asyncio.sleep(0.05)
    env.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert stopped.is_set()
