"""`taskrunner demo` (what `make demo` runs): one pass of every scheduled job, real effects."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from pypdf import PdfReader

from taskrunner.devserver import DevServer
from tests.helpers import free_port
from tests.helpers.cli import run_cli


def test_demo_prints_the_seed_output_with_real_results(
    tmp_path: Path, dev_server: DevServer
) -> None:
    data = tmp_path / "data"
    result = run_cli(
        "demo",
        cwd=tmp_path,
        TEMPORAL_ADDRESS=dev_server.address,
        TASKRUNNER_TASK_QUEUE=f"demo-{free_port()}",
        TASKRUNNER_DATA_DIR=str(data),
        # Keep the health part deterministic on a busy test machine.
        TASKRUNNER_HEALTH__CPU_THRESHOLD="100",
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
    assert (
        "⏰ Outside maintenance window - skipping" in out or "✓ Maintenance window is open" in out
    )

    # Real effects in the data directory.
    assert len(list((data / "outbox").glob("*.eml"))) == 2
    pdfs = list((data / "reports").glob("sales_daily_*.pdf"))
    assert len(pdfs) == 1 and len(PdfReader(pdfs[0]).pages) >= 1
    assert len(list((data / "reports").glob("sales_daily_*.csv"))) == 1
    with sqlite3.connect(data / "app.db") as db:
        assert db.execute("SELECT COUNT(*) FROM external_api_records").fetchone() == (25,)
