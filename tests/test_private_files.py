"""What the runner writes is its user's alone, whatever the caller's umask: folders 0700,
files 0600 (history with payloads, backups, outbox, reports, logs)."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

import pytest

from tests.helpers import free_port
from tests.helpers.cli import TASKRUNNER, cli_env

pytestmark = pytest.mark.devserver

EMAIL = '{"recipient": "ops@example.com", "subject": "private", "body": "secret body"}'


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    ports = {"TASKRUNNER_SERVER_PORT": str(free_port()), "TASKRUNNER_UI_PORT": str(free_port())}
    return subprocess.run(
        [TASKRUNNER, *args],
        cwd=tmp_path,
        env=cli_env(**ports, **env),
        umask=0o022,  # the common default: 0644 files, 0755 folders
        capture_output=True,
        text=True,
        timeout=180,
    )


def modes(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): oct(stat.S_IMODE(path.stat().st_mode))
        for path in [root, *root.rglob("*")]
        if not path.is_symlink()
    }


def test_everything_the_runner_writes_is_private_under_umask_022(tmp_path: Path) -> None:
    enqueued = run(tmp_path, "enqueue", "email", "--data", EMAIL)
    assert enqueued.returncode == 0, enqueued
    report = run(tmp_path, "enqueue", "report", "--data", '{"report_type": "sales"}')
    assert report.returncode == 0, report
    maintained = run(tmp_path, "maintenance", "--force")
    assert maintained.returncode == 0, maintained
    found = modes(tmp_path / ".taskrunner")
    # The embedded server's database, the outbox's email, a report, a backup, the log file.
    for kind in ("temporal.db", "outbox/", "reports/", "backups/", "taskrunner.log"):
        assert any(name.startswith(kind) or kind in name for name in found), (kind, found)
    loose = {
        name: mode
        for name, mode in found.items()
        if mode not in ("0o700" if (tmp_path / ".taskrunner" / name).is_dir() else "0o600",)
    }
    assert not loose, loose


def test_private_files_can_be_turned_off(tmp_path: Path) -> None:
    result = run(tmp_path, "schedules", "list", TASKRUNNER_PRIVATE_FILES="false")
    assert result.returncode == 0, result
    assert modes(tmp_path / ".taskrunner")["."] == "0o755"
