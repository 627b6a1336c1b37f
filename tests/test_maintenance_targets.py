"""Every target on its own: a failing one never stops the rest, an absent default is no error.

Real databases: SQLite files, the machine's PostgreSQL, and a PostgreSQL DSN to a
port nothing listens on (a database that is down).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from taskrunner.maintenance.activities import DatabaseActivities
from taskrunner.maintenance.models import MaintenanceReport, TargetInput, maintenance_input
from taskrunner.maintenance.workflow import MaintenanceWorkflow
from taskrunner.settings import Settings
from tests.helpers import free_port
from tests.helpers.databases import bloated_sqlite, row_counts

PASSWORD = "s3cret-Pw-4711"


def down_postgres() -> dict[str, str]:
    """A PostgreSQL target that is down: nothing listens on its port."""
    return {"name": "pg", "kind": "postgres", "dsn": f"postgresql://u@127.0.0.1:{free_port()}/x"}


async def run(
    client: Client, make_worker: Any, settings: Settings
) -> tuple[MaintenanceReport, str]:
    workflow_id = f"maintenance-{uuid.uuid4()}"
    async with make_worker(client, settings):
        report = await client.execute_workflow(
            MaintenanceWorkflow.run,
            maintenance_input(settings, force=True),
            id=workflow_id,
            task_queue=settings.task_queue,
        )
    return report, workflow_id


async def test_a_database_that_is_down_does_not_stop_the_healthy_one(
    client: Client, make_worker: Any, make_settings: Any, capsys: Any
) -> None:
    # The failing target first: it used to end the run before the SQLite backup.
    settings = make_settings(maintenance={"targets": [down_postgres(), {"name": "app"}]})
    counts = bloated_sqlite(settings.sqlite_path(settings.database))
    report, _ = await run(client, make_worker, settings)

    assert report.status == "partial"
    [backup] = report.backups
    assert backup.target == "app" and row_counts(Path(backup.file)) == counts
    assert [(t.target, t.status, t.step) for t in report.targets] == [
        ("pg", "failed", "vacuum"),
        ("app", "completed", None),
    ]
    pg = report.targets[0]
    assert pg.error_type == "DatabaseUnavailable"
    assert pg.error is not None and pg.error.startswith("cannot vacuum 127.0.0.1:")
    assert report.summary is not None
    assert report.summary.startswith("Maintenance partly failed: 1 of 2 targets failed (pg):\n")
    assert "\n- Backup: " in report.summary and f"({backup.file})" in report.summary
    assert f"\n- pg FAILED at vacuum: {pg.error}" in report.summary
    out = capsys.readouterr().out
    assert f"📧 [ERROR] {report.summary}" in out
    assert "📧 [SUCCESS]" not in out


async def test_when_every_target_fails_the_run_fails_naming_each(
    client: Client, make_worker: Any, make_settings: Any, tmp_path: Path, capsys: Any
) -> None:
    missing = tmp_path / "gone.db"
    targets = [down_postgres(), {"name": "shop", "path": str(missing)}]
    settings = make_settings(maintenance={"targets": targets})
    with pytest.raises(WorkflowFailureError) as caught:
        await run(client, make_worker, settings)
    cause = caught.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.message.startswith("every target failed: pg at vacuum: cannot vacuum ")
    assert cause.message.endswith(f"; shop at inspect: SQLite database {missing} does not exist")
    assert f"📧 [ERROR] Maintenance failed: {cause.message}" in capsys.readouterr().out


async def test_an_absent_default_database_is_nothing_to_maintain_yet(
    client: Client, make_worker: Any, make_settings: Any, capsys: Any
) -> None:
    settings = make_settings()
    report, _ = await run(client, make_worker, settings)
    assert report.status == "completed"
    [outcome] = report.targets
    assert (outcome.target, outcome.status) == ("app", "absent")
    path = settings.sqlite_path(settings.database)
    assert outcome.error == (
        f"{path} does not exist yet; the first report or dataSync task creates it"
    )
    assert (
        report.summary
        == f"Maintenance completed:\n- app: nothing to maintain yet ({outcome.error})"
    )
    assert not report.vacuum and not report.backups
    assert not path.exists() and not settings.backups_dir.exists()
    assert "[ERROR]" not in capsys.readouterr().out


async def test_an_explicitly_configured_missing_file_stays_an_error(
    make_settings: Any, tmp_path: Path
) -> None:
    missing = tmp_path / "named.db"
    activities = DatabaseActivities(make_settings(database={"path": str(missing)}))
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(activities.inspect_target, TargetInput(target="app"))
    assert caught.value.type == "ConfigurationError" and caught.value.non_retryable
    assert caught.value.message == f"SQLite database {missing} does not exist"


async def test_a_malformed_dsn_keeps_its_password_out_of_history_and_alerts(
    client: Client, make_worker: Any, make_settings: Any, capsys: Any
) -> None:
    bad = {"name": "pg", "kind": "postgres", "dsn": f"postgresql://admin:{PASSWORD}@[::1/x"}
    settings = make_settings(maintenance={"targets": [bad, {"name": "app"}]})
    bloated_sqlite(settings.sqlite_path(settings.database))
    report, workflow_id = await run(client, make_worker, settings)

    assert report.status == "partial"
    pg = report.targets[0]
    assert pg.status == "failed" and pg.error_type == "ConfigurationError"
    assert pg.error is not None and "postgresql://admin:***@[::1/x" in pg.error
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    assert PASSWORD not in history.to_json()
    assert PASSWORD not in capsys.readouterr().out
    log = settings.data_dir / "notifications.jsonl"
    assert "pg FAILED at vacuum" in log.read_text() and PASSWORD not in log.read_text()
