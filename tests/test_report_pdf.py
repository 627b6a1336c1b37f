"""The report's PDF: right-aligned numbers with their decimals, totals, per-group totals, a chart.

The PDF's text is read back with pypdf and checked against sums of the raw CSV.
"""

from __future__ import annotations

import csv
import os
import re
import stat
import subprocess
import sys
import uuid
from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pypdf import PdfReader
from temporalio.exceptions import ApplicationError

from taskrunner.errors import ConfigError
from taskrunner.settings.reports import ReportChart, sales_report
from taskrunner.tasks.report_chart import MAX_SERIES, OTHER, chart_data
from taskrunner.tasks.report_files import ReportDocument
from taskrunner.tasks.report_table import ReportLayoutError, summarize
from tests.helpers import free_port
from tests.helpers.cli import ROOT, run_cli
from tests.test_task_report import POSTGRES_DSN, run_report

ONE_DECIMAL = re.compile(r"(?<![\d.,])\d[\d,]*\.\d(?!\d)")
"""A number written with a single decimal, as ``60.0``: the PDF never shows one."""


def money(value: Decimal | int) -> str:
    return f"{value:,.2f}"


def pdf_text(path: Path | str) -> list[str]:
    return [page.extract_text() for page in PdfReader(path).pages]


def check_sales_pdf(pdf: Path, csv_path: Path) -> None:
    """The PDF holds the CSV's rows with 2-decimal amounts, its totals, and a chart on page 1."""
    with csv_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows, "the test needs sales in the period"
    pages = pdf_text(pdf)
    lines = "\n".join(pages).splitlines()
    units, amount = sum(int(r["Quantity"]) for r in rows), sum(Decimal(r["Amount"]) for r in rows)
    # The rows table ends with the grand total; each group table ends with it too.
    assert f"Total {units} {money(amount)}" in lines
    assert lines.count(f"Total {len(rows)} {units} {money(amount)}") == 2
    for column in ("Region", "Product"):
        groups: dict[str, list[dict[str, str]]] = defaultdict(list)
        for row in rows:
            groups[row[column]].append(row)
        for name, members in groups.items():
            quantity = sum(int(r["Quantity"]) for r in members)
            total = money(sum(Decimal(r["Amount"]) for r in members))
            assert f"{name} {len(members)} {quantity} {total}" in lines, (name, lines)
    for row in rows:
        assert f"{row['Quantity']} {money(Decimal(row['Amount']))}" in "\n".join(pages)
    assert not ONE_DECIMAL.findall("\n".join(pages))
    first = PdfReader(pdf).pages[0]
    assert len(first.images) == 1 and first.images[0].image is not None
    assert first.images[0].image.width >= 1000  # sharp when printed
    assert "Amount per day by Region" in pages[0]


async def test_sales_pdf_shows_the_totals_of_its_csv_and_a_chart(settings: Any) -> None:
    result = await run_report(settings, "sales", "monthly")
    check_sales_pdf(Path(result.details["pdf"]), Path(result.details["csv"]))
    # matplotlib's config and font cache went in a data dir (the first report drawn in
    # this process chose which: another test's, when it drew first), never in $HOME.
    import matplotlib

    cache = Path(matplotlib.get_cachedir())
    assert cache.parts[-2:] == ("cache", "matplotlib"), cache
    assert list(cache.glob("fontlist-*.json"))


async def test_postgres_numeric_amounts_give_the_same_pdf(make_settings: Any) -> None:
    table = f"sales_{uuid.uuid4().hex[:10]}"
    settings = make_settings(
        database={"kind": "postgres", "dsn": POSTGRES_DSN},
        reports={"pg_sales": sales_report(table).model_dump()},
    )
    try:
        result = await run_report(settings, "pg_sales", "weekly")
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    assert ",60.00\n" in Path(result.details["csv"]).read_text()  # NUMERIC(12, 2), raw
    check_sales_pdf(Path(result.details["pdf"]), Path(result.details["csv"]))


async def test_csv_keeps_the_raw_values_the_pdf_formats(settings: Any) -> None:
    result = await run_report(settings, "sales", "monthly")
    text = Path(result.details["csv"]).read_text()
    assert ",60.0\n" in text and ",103.5\n" in text  # SQLite REAL, as the database gave it
    assert "Total" not in text and ",60.00" not in text


async def test_report_without_rows_has_zero_totals_and_no_chart(make_settings: Any) -> None:
    quiet = sales_report().model_dump() | {
        "title": "Quiet",
        "sql": "SELECT sold_at, region, product, quantity, amount FROM sales WHERE 1 = 0",
    }
    settings = make_settings(reports={"quiet": quiet})
    result = await run_report(settings, "quiet", "daily")
    reader = PdfReader(result.details["pdf"])
    assert len(reader.pages) == result.details["pages"] == 1 and result.details["rows"] == 0
    text = reader.pages[0].extract_text()
    assert "No rows for this period." in text and "Rows: 0" in text
    assert "Total 0 0.00" in text.splitlines()
    assert "Totals by" not in text and "per day" not in text
    assert not reader.pages[0].images  # nothing to draw: no chart rather than an empty one
    assert Path(result.details["csv"]).read_text().splitlines() == [
        "Sold at (UTC),Region,Product,Quantity,Amount"
    ]


async def test_totals_of_a_column_that_is_not_numbers_fail_as_configuration(
    make_settings: Any,
) -> None:
    settings = make_settings(
        reports={
            "odd": {
                "title": "Odd",
                "sql": "SELECT region, amount FROM sales",
                "seed_table": "sales",
                "totals": ["region"],
            },
            "missing": {"title": "Missing", "sql": "SELECT 1 AS one", "totals": ["two"]},
        }
    )
    with pytest.raises(ApplicationError) as caught:
        await run_report(settings, "odd")
    assert caught.value.type == "ConfigurationError" and caught.value.non_retryable
    assert str(caught.value).endswith("report 'odd': column 'region' holds 'North', not a number")
    with pytest.raises(ApplicationError) as caught:
        await run_report(settings, "missing")
    assert caught.value.type == "ConfigurationError" and caught.value.non_retryable
    assert "names column 'two' in its settings, but its query's columns are one" in str(
        caught.value
    )


def test_settings_refuse_a_total_of_a_column_the_report_does_not_have(make_settings: Any) -> None:
    spec = sales_report().model_dump() | {"totals": ["Amount", "Price"]}
    with pytest.raises(ConfigError, match=r"'Price' is not one of the report's columns \(Sold at"):
        make_settings(reports={"sales": spec})


def document(header: list[str], rows: list[tuple[Any, ...]], **layout: Any) -> ReportDocument:
    moment = datetime(2025, 3, 10, 12, tzinfo=UTC)
    return ReportDocument(
        title="T",
        period="weekly",
        start=datetime(2025, 3, 3, 12, tzinfo=UTC),
        end=moment,
        generated_at=moment,
        header=header,
        rows=rows,
        truncated=False,
        **layout,
    )


def test_undeclared_numbers_are_right_aligned_with_their_column_s_decimals() -> None:
    doc = document(
        ["name", "count", "ratio", "price", "flag"],
        [("a", 1200, 0.5, Decimal("12.00"), True), ("b", 3, 0.25, None, False)],
        totals=["count"],
    )
    table = summarize(doc)
    assert table.numeric == [False, True, True, True, False]
    assert table.rows == [["a", "1,200", "0.50", "12.00", "True"], ["b", "3", "0.25", "", "False"]]
    assert table.total == ["", "1,203", "", "", ""]
    assert table.groups == []
    with pytest.raises(ReportLayoutError, match="column 'name' holds 'a', not a number"):
        summarize(document(["name"], [("a",)], decimals={"name": 2}))


def test_chart_sums_per_day_over_the_whole_period_and_folds_small_stacks() -> None:
    stacks = [f"s{i:02}" for i in range(MAX_SERIES + 2)]
    rows: list[tuple[Any, ...]] = [
        ("2025-03-05 10:00:00", name, 10 + i) for i, name in enumerate(stacks)
    ]
    rows += [(datetime(2025, 3, 5, 23, tzinfo=UTC), "s09", 0.5), (date(2025, 3, 7), None, 100)]
    doc = document(
        ["at", "who", "amount"], rows, chart=ReportChart(x="at", y="amount", stack="who")
    )
    data = chart_data(doc)
    assert data is not None and data.title == "amount per day by who"
    assert data.days == [date(2025, 3, d) for d in range(3, 11)]  # quiet days included
    assert list(data.series) == ["(none)", "s04", "s05", "s06", "s07", "s08", "s09", OTHER]
    # The four smallest stacks (10 to 13) are added up as Other; nothing is lost.
    assert data.series[OTHER] == [0, 0, 46.0, 0, 0, 0, 0, 0]
    assert data.series["s09"][2] == 19.5 and data.series["(none)"][4] == 100.0
    assert sum(map(sum, data.series.values())) == sum(float(r[2]) for r in rows)
    assert chart_data(document(["at", "who", "amount"], [], chart=doc.chart)) is None
    with pytest.raises(ReportLayoutError, match="chart column 'at' holds 'soon', not a date"):
        chart_data(document(["at", "amount"], [("soon", 1)], chart=ReportChart(x="at", y="amount")))


def test_the_worker_does_not_import_matplotlib_until_a_chart_is_drawn() -> None:
    code = (
        "import sys, taskrunner.worker, taskrunner.tasks.report; print('matplotlib' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_drawing_writes_nothing_in_home_and_keeps_files_private(tmp_path: Path) -> None:
    home, data_dir = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    code = (
        "import os, sys; from datetime import date; from pathlib import Path\n"
        "from taskrunner.tasks.report_chart import ChartData, draw_chart\n"
        "png = draw_chart(ChartData('t', 'y', [date(2025, 1, 1)], {'a': [1.0]}), Path(sys.argv[1]))\n"
        "assert png.startswith(b'\\x89PNG') and 'MPLCONFIGDIR' not in os.environ\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MPL", "XDG_"))}
    result = subprocess.run(
        [sys.executable, "-c", code, str(data_dir)],
        cwd=tmp_path,
        env={**env, "HOME": str(home), "PYTHONPATH": str(ROOT)},
        umask=0o077,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert not list(home.rglob("*"))
    written = list(data_dir.rglob("*"))
    assert any(p.name.startswith("fontlist-") for p in written)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [data_dir, *written]}
    assert set(modes.values()) <= {0o700, 0o600}, modes


@pytest.mark.devserver
def test_cli_report_pdf_has_totals_and_a_chart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()

    def taskrunner(*args: str) -> None:
        # The CLI's own embedded server and stand-in worker, as on a fresh install.
        ports = {"TASKRUNNER_SERVER_PORT": str(free_port()), "TASKRUNNER_UI_PORT": str(free_port())}
        result = run_cli(*args, cwd=tmp_path, HOME=str(home), **ports)
        assert result.returncode == 0, result.stderr

    taskrunner("enqueue", "report", "--data", '{"report_type": "sales", "period": "weekly"}')
    taskrunner("queue", "drain")  # the report has run once the tasks due now are done
    [pdf] = (tmp_path / ".taskrunner" / "reports").glob("sales_weekly_*.pdf")
    check_sales_pdf(pdf, pdf.with_suffix(".csv"))
    assert not list(home.rglob("*")), "nothing is written in $HOME"
