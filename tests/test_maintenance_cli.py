"""``taskrunner maintenance`` as users run it, against the session dev server."""

from __future__ import annotations

import json
import select
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from taskrunner.devserver import DevServer
from tests.helpers import free_port
from tests.helpers.cli import popen_cli, run_cli
from tests.helpers.databases import (
    bloated_sqlite,
    postgres_database,
    postgres_dsn,
    postgres_locked,
    row_counts,
)

FIRST_LINE_SECONDS = 30
"""How long the first line may take: the command's start, not its run."""


def _window_env(dev_server: DevServer, data: Path, open_now: bool) -> dict[str, str]:
    """Settings for a CLI run whose window (in Asia/Tokyo) contains now, or not."""
    local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Tokyo"))
    start = local - timedelta(hours=1) if open_now else local + timedelta(hours=2)
    end = start + timedelta(hours=2 if open_now else 1)
    return {
        "TEMPORAL_ADDRESS": dev_server.address,
        "TASKRUNNER_TASK_QUEUE": f"cli-maint-{free_port()}",
        "TASKRUNNER_DATA_DIR": str(data),
        "TASKRUNNER_TIMEZONE": "Asia/Tokyo",
        "TASKRUNNER_MAINTENANCE__WINDOW_START": f"{start:%H:%M}",
        "TASKRUNNER_MAINTENANCE__WINDOW_END": f"{end:%H:%M}",
    }


def test_maintenance_command_force_prints_the_report(tmp_path: Path, dev_server: DevServer) -> None:
    data = tmp_path / "data"
    counts = bloated_sqlite(data / "app.db")
    result = run_cli(
        "maintenance",
        "--force",
        cwd=tmp_path,
        **_window_env(dev_server, data, open_now=True),
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "✓ Maintenance window is open (window " in out
    assert "📧 [INFO] Starting scheduled maintenance" in out
    assert "Vacuum   app: " in out and " freed (" in out
    assert "Analyze  app: 2 tables" in out
    assert "integrity_check ok" in out
    assert "Maintenance completed:\n- Vacuum: " in out
    assert "\n- Analyze: 2 tables\n- Backup: " in out
    [backup] = (data / "backups" / "app").glob("app-*.db")
    assert f"({backup})" in out
    assert row_counts(backup) == counts


def test_maintenance_command_outside_the_window_skips(
    tmp_path: Path, dev_server: DevServer
) -> None:
    data = tmp_path / "data"
    bloated_sqlite(data / "app.db")
    result = run_cli("maintenance", cwd=tmp_path, **_window_env(dev_server, data, open_now=False))
    assert result.returncode == 0, result.stderr
    # After the "Running maintenance (...)..." line that comes at once.
    assert result.stdout.splitlines()[1].startswith(
        "⏰ Outside maintenance window - skipping (window "
    )
    assert "use --force to run now" in result.stdout
    assert "📧" not in result.stdout
    assert not (data / "backups").exists()


def test_maintenance_command_failure_is_one_line_and_exit_1(
    tmp_path: Path, dev_server: DevServer
) -> None:
    data = tmp_path / "data"
    # A database file the settings name explicitly must exist.
    missing = tmp_path / "elsewhere" / "shop.db"
    env = _window_env(dev_server, data, open_now=True)
    result = run_cli("maintenance", cwd=tmp_path, TASKRUNNER_DATABASE__PATH=str(missing), **env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"✗ Maintenance failed: SQLite database {missing} does not exist"
    ]
    assert "📧 [ERROR] Maintenance failed: SQLite database" in result.stdout


def test_maintenance_on_a_fresh_install_succeeds_with_nothing_to_maintain(
    tmp_path: Path,
) -> None:
    # As on a fresh clone: no data directory, no server running, nothing configured
    # (only free ports, so the embedded server this command starts has its own).
    result = run_cli(
        "maintenance",
        "--force",
        cwd=tmp_path,
        TASKRUNNER_SERVER_PORT=str(free_port()),
        TASKRUNNER_UI_PORT=str(free_port()),
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = result.stdout
    database = (tmp_path / ".taskrunner" / "app.db").relative_to(tmp_path)
    said = (
        f"app: nothing to maintain yet ({database} does not exist yet; "
        "the first report or dataSync task creates it)"
    )
    assert f"Target   {said}" in out
    assert f"Maintenance completed:\n- {said}" in out
    assert "📧 [SUCCESS] Maintenance completed:" in out
    assert "ERROR" not in out and "✗" not in out
    assert not (tmp_path / ".taskrunner" / "app.db").exists()
    assert not (tmp_path / ".taskrunner" / "backups").exists()


def test_maintenance_command_has_help(tmp_path: Path) -> None:
    result = run_cli("maintenance", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage: taskrunner maintenance [-h] [--force]" in result.stdout


def test_maintenance_says_what_it_runs_at_once(tmp_path: Path, dev_server: DevServer) -> None:
    # Its one target's VACUUM waits for a lock this test holds, so the run cannot end
    # (nor flush its output at exit) before the test has read the first line.
    with postgres_database() as database:
        dsn = postgres_dsn(database)
        env = _window_env(dev_server, tmp_path / "data", open_now=True)
        env["TASKRUNNER_MAINTENANCE__TARGETS"] = json.dumps(
            [{"name": "app", "kind": "postgres", "dsn": dsn}]
        )
        with postgres_locked("items", dsn):
            # Output buffered as a user's is (a test runner may export PYTHONUNBUFFERED=1),
            # and no console notification to flush it: only the command's own flush can.
            command = popen_cli(
                "maintenance",
                cwd=tmp_path,
                PYTHONUNBUFFERED="",
                TASKRUNNER_NOTIFICATIONS__CONSOLE__ENABLED="false",
                **env,
            )
            try:
                assert command.stdout is not None
                ready, _, _ = select.select([command.stdout], [], [], FIRST_LINE_SECONDS)
                assert ready, "no first line while the run waits for the lock"
                first = command.stdout.readline()
                assert command.poll() is None
            except BaseException:
                command.kill()
                command.communicate(timeout=30)
                raise
        out, err = command.communicate(timeout=120)  # the lock is gone: the run ends
    assert command.returncode == 0, err
    window = (
        f"{env['TASKRUNNER_MAINTENANCE__WINDOW_START']}-{env['TASKRUNNER_MAINTENANCE__WINDOW_END']}"
    )
    assert first == f"Running maintenance (window {window} Asia/Tokyo, targets app)...\n"
    assert "Vacuum   app: " in out and "Backup   app: " in out


def test_maintenance_with_a_failed_target_reports_the_rest_and_exits_1(
    tmp_path: Path, dev_server: DevServer
) -> None:
    data = tmp_path / "data"
    counts = bloated_sqlite(data / "app.db")
    missing = tmp_path / "elsewhere" / "shop.db"
    targets = [{"name": "shop", "path": str(missing)}, {"name": "app"}]
    env = _window_env(dev_server, data, open_now=True)
    result = run_cli(
        "maintenance", cwd=tmp_path, TASKRUNNER_MAINTENANCE__TARGETS=json.dumps(targets), **env
    )
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "Backup   app: " in out
    assert f"Target   shop FAILED at inspect: SQLite database {missing} does not exist" in out
    assert "\nMaintenance partly failed: 1 of 2 targets failed (shop):\n" in out
    assert "📧 [ERROR] Maintenance partly failed" in out
    [backup] = (data / "backups" / "app").glob("app-*.db")
    assert f"({backup})" in out and row_counts(backup) == counts
