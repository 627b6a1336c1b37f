"""``taskrunner maintenance`` as users run it, against the session dev server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from taskrunner.devserver import DevServer
from tests.helpers import free_port
from tests.helpers.cli import run_cli
from tests.helpers.databases import bloated_sqlite, row_counts


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
    assert result.stdout.startswith("⏰ Outside maintenance window - skipping (window ")
    assert "use --force to run now" in result.stdout
    assert "📧" not in result.stdout
    assert not (data / "backups").exists()


def test_maintenance_command_failure_is_one_line_and_exit_1(
    tmp_path: Path, dev_server: DevServer
) -> None:
    data = tmp_path / "data"
    env = _window_env(dev_server, data, open_now=True)
    result = run_cli("maintenance", cwd=tmp_path, **env)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"✗ Maintenance failed: SQLite database {data / 'app.db'} does not exist"
    ]
    assert "📧 [ERROR] Maintenance failed: SQLite database" in result.stdout


def test_maintenance_command_has_help(tmp_path: Path) -> None:
    result = run_cli("maintenance", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "usage: taskrunner maintenance [-h] [--force]" in result.stdout
