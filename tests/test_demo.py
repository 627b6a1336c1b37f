"""`taskrunner demo` (what `make demo` runs): one pass of every scheduled job, real effects."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pypdf import PdfReader

from taskrunner.devserver import DevServer
from tests.helpers import free_port
from tests.helpers.cli import run_cli


def test_demo_prints_the_seed_output_with_real_results(
    tmp_path: Path, dev_server: DevServer
) -> None:
    data = tmp_path / "data"
    now = datetime.now(UTC)
    result = run_cli(
        "demo",
        cwd=tmp_path,
        TEMPORAL_ADDRESS=dev_server.address,
        TASKRUNNER_TASK_QUEUE=f"demo-{free_port()}",
        TASKRUNNER_DATA_DIR=str(data),
        # Keep the health part deterministic on a busy test machine.
        TASKRUNNER_HEALTH__CPU_THRESHOLD="100",
        # Open now: maintenance runs and notifies (console lines in its section).
        TASKRUNNER_MAINTENANCE__WINDOW_START=f"{now - timedelta(hours=1):%H:%M}",
        TASKRUNNER_MAINTENANCE__WINDOW_END=f"{now + timedelta(hours=1):%H:%M}",
    )
    out = result.stdout
    assert result.returncode == 0, result.stderr + out
    for line in [
        "SCHEDULED TASK RUNNER",
        "Task queue initialized with 4 tasks",
        ">>> Running Health Monitor...",
        ">>> Processing Task Queue...",
        "Sending email to admin@example.com...",
        "Sending email to user@example.com...",
        "Generating report: sales...",
        "Task processing complete: 4 tasks processed",
        "Queue stats: { total: 4, pending: 0, completed: 4, failed: 0 }",
        ">>> Running Scheduled Maintenance...",
        "ALL SCHEDULED TASKS COMPLETE",
    ]:
        assert line in out, f"missing {line!r} in:\n{out}"
    processed = re.findall(r"Processing task (\w+) \((\w+)\) - Attempt 1", out)
    assert sorted(t for _, t in processed) == ["dataSync", "email", "email", "report"]
    assert all(f"✓ Task {task_id} completed" in out for task_id, _ in processed)
    # Each console notification under its step's header, in order; the summary once.
    sections = out.split(">>> Running Scheduled Maintenance...")
    assert len(sections) == 2 and "📧" not in sections[0], out
    maintenance = sections[1].splitlines()
    assert maintenance[2:5] == [
        "✓ Maintenance window is open",
        "📧 [INFO] Starting scheduled maintenance",
        "📧 [SUCCESS] Maintenance completed:",
    ], out
    assert out.count("Maintenance completed:") == 1

    # Real effects in the data directory.
    assert len(list((data / "outbox").glob("*.eml"))) == 2
    pdfs = list((data / "reports").glob("sales_daily_*.pdf"))
    assert len(pdfs) == 1 and len(PdfReader(pdfs[0]).pages) >= 1
    assert len(list((data / "reports").glob("sales_daily_*.csv"))) == 1
    with sqlite3.connect(data / "app.db") as db:
        assert db.execute("SELECT COUNT(*) FROM external_api_records").fetchone() == (25,)
