"""The report task: a declared query on SQLite or PostgreSQL, rendered as a PDF and a CSV."""

from __future__ import annotations

import csv
import sqlite3
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import ValidationError
from pypdf import PdfReader
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from taskrunner.databases.sqlite import SQLITE_TIME_FORMAT
from taskrunner.settings.reports import sales_report
from taskrunner.tasks.builtin import payload_context
from taskrunner.tasks.declare import task_activity
from taskrunner.tasks.registry import TaskActivityInput
from taskrunner.tasks.report import ReportPayload, ReportTask
from taskrunner.tasks.report_files import cell_text

POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"


async def run_report(settings: Any, report: str, period: str = "daily", **env: Any) -> Any:
    task = TaskActivityInput(task_id="r-1", payload={"report_type": report, "period": period})
    return await ActivityEnvironment(**env).run(task_activity(ReportTask, settings), task)


def csv_rows(path: str) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def window(result: Any, fmt: str | None = None) -> dict[str, Any]:
    start = datetime.fromisoformat(result.details["start"])
    end = datetime.fromisoformat(result.details["end"])
    if fmt:
        return {"start": start.strftime(fmt), "end": end.strftime(fmt)}
    return {"start": start, "end": end}


async def test_sales_report_on_a_fresh_sqlite_database_writes_pdf_and_csv(settings: Any) -> None:
    heartbeats: list[Any] = []
    env = ActivityEnvironment()
    env.on_heartbeat = heartbeats.append
    task = TaskActivityInput(task_id="r-1", payload={"report_type": "sales", "period": "monthly"})
    result = await env.run(task_activity(ReportTask, settings), task)

    pdf, csv_path = Path(result.details["pdf"]), Path(result.details["csv"])
    assert pdf.parent == csv_path.parent == settings.reports_dir
    assert len(PdfReader(pdf).pages) == result.details["pages"] >= 2
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Sales report" in text and "Period: monthly" in text and "Generated:" in text

    # The CSV holds exactly what the report's query returns on the seeded table.
    with sqlite3.connect(settings.sqlite_path(settings.database)) as conn:
        expected = conn.execute(
            sales_report().sql, {**window(result, SQLITE_TIME_FORMAT), "period": "monthly"}
        ).fetchall()
    rows = csv_rows(str(csv_path))
    assert rows[0] == sales_report().columns
    assert rows[1:] == [[cell_text(v) for v in row] for row in expected]
    assert result.details["rows"] == len(expected) == 60  # all demo rows fall within 30 days
    assert result.summary == (
        f"Report sales (monthly): 60 rows, {result.details['pages']} pages: {pdf} (and .csv)"
    )
    assert heartbeats, "the report heartbeats while it works"


async def test_daily_sales_report_covers_the_last_day_only(settings: Any) -> None:
    result = await run_report(settings, "sales", "daily")
    rows = csv_rows(result.details["csv"])[1:]
    assert len(rows) == result.details["rows"] == 2
    assert len(PdfReader(result.details["pdf"]).pages) == result.details["pages"] == 1


async def test_sales_report_runs_against_postgresql(make_settings: Any) -> None:
    table = f"sales_{uuid.uuid4().hex[:10]}"
    settings = make_settings(
        database={"kind": "postgres", "dsn": POSTGRES_DSN},
        reports={"pg_sales": sales_report(table).model_dump()},
    )
    try:
        result = await run_report(settings, "pg_sales", "weekly")
        with psycopg.connect(POSTGRES_DSN) as conn:
            expected = conn.execute(
                f"SELECT sold_at, region, product, quantity, amount FROM {table} "
                "WHERE sold_at >= %(start)s AND sold_at < %(end)s ORDER BY sold_at, id",
                window(result),
            ).fetchall()
            seeded = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    assert seeded == (60,)
    assert result.details["rows"] == len(expected) == 14
    assert csv_rows(result.details["csv"])[1:] == [[cell_text(v) for v in r] for r in expected]
    assert len(PdfReader(result.details["pdf"]).pages) == result.details["pages"]


async def test_rerunning_a_report_task_overwrites_its_files(settings: Any) -> None:
    first = await run_report(settings, "sales")
    second = await run_report(settings, "sales")
    assert (first.details["pdf"], first.details["csv"]) == (
        second.details["pdf"],
        second.details["csv"],
    )
    assert len(list(settings.reports_dir.iterdir())) == 2


async def test_report_files_are_named_by_absolute_path(
    make_settings: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    result = await run_report(make_settings(data_dir=Path("data")), "sales")
    pdf, csv_path = Path(result.details["pdf"]), Path(result.details["csv"])
    assert pdf.is_absolute() and csv_path.is_absolute()
    assert pdf.parent == csv_path.parent == tmp_path / "data" / "reports"
    assert result.summary.endswith(f": {pdf} (and .csv)")


def test_report_payload_names_the_declared_reports_when_it_knows_them(settings: Any) -> None:
    context = payload_context(settings)
    with pytest.raises(
        ValidationError, match=r"unknown report 'inventory' \(known reports: sales\)"
    ):
        ReportPayload.model_validate({"report_type": "inventory"}, context=context)
    assert ReportPayload.model_validate({"report_type": "sales"}, context=context)
    # Without the settings (the activity's own check), any well-formed name passes here.
    assert ReportPayload.model_validate({"report_type": "inventory"}).report_type == "inventory"


async def test_unknown_report_is_non_retryable_and_names_the_known_ones(settings: Any) -> None:
    with pytest.raises(ApplicationError) as caught:
        await run_report(settings, "inventory")
    assert caught.value.type == "InvalidTaskData" and caught.value.non_retryable
    assert "'inventory'" in str(caught.value) and "sales" in str(caught.value)
    assert not settings.reports_dir.exists()


async def test_declared_reports_run_and_keep_the_built_in_sales(make_settings: Any) -> None:
    settings = make_settings(
        reports={
            "regions": {
                "title": "Sales by region",
                "sql": "SELECT region, count(*) AS sales, sum(quantity) AS units FROM sales "
                "WHERE sold_at >= :start AND sold_at < :end GROUP BY region ORDER BY region",
                "seed_table": "sales",
            }
        }
    )
    assert set(settings.reports) == {"sales", "regions"}
    result = await run_report(settings, "regions", "monthly")
    assert csv_rows(result.details["csv"]) == [
        ["region", "sales", "units"],
        ["East", "15", "45"],
        ["North", "15", "45"],
        ["South", "15", "45"],
        ["West", "15", "45"],
    ]


async def test_report_with_a_broken_query_is_a_non_retryable_configuration_error(
    make_settings: Any,
) -> None:
    settings = make_settings(reports={"broken": {"title": "Broken", "sql": "SELECT * FROM nope"}})
    with pytest.raises(ApplicationError) as caught:
        await run_report(settings, "broken")
    assert caught.value.type == "ConfigurationError" and caught.value.non_retryable
    assert "nope" in str(caught.value)
