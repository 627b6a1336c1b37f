"""The dashboard's reports page lists the files the report task wrote and serves them,
and nothing else from the data dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from temporalio.client import Client

from taskrunner.dashboard import build_app
from tests.helpers.browser import dashboard_client
from tests.test_task_report import run_report


async def test_the_reports_page_links_each_report_file_and_serves_it(
    settings: Any, dev_client: Client
) -> None:
    result = await run_report(settings, "sales", "monthly")
    pdf, csv = Path(result.details["pdf"]), Path(result.details["csv"])
    (settings.reports_dir / "notes.txt").write_text("not a report")
    app = build_app(settings, dev_client)
    async with dashboard_client(app, htmx=False) as http:
        page = (await http.get("/reports")).text
        assert f'href="/reports/{pdf.name}"' in page and f'href="/reports/{csv.name}"' in page
        assert "notes.txt" not in page
        served = await http.get(f"/reports/{pdf.name}")
        assert served.status_code == 200
        assert served.headers["content-type"] == "application/pdf"
        assert served.content == pdf.read_bytes()
        raw = await http.get(f"/reports/{csv.name}")
        assert raw.headers["content-disposition"].startswith("attachment")
        assert raw.content == csv.read_bytes()
        for name in ("notes.txt", "..%2Fapp.db", "%2Fetc%2Fpasswd"):
            refused = await http.get(f"/reports/{name}")
            assert refused.status_code == 404, name
        overview = (await http.get("/")).text
        assert '<a href="/reports"' in overview  # in the navigation of every page


async def test_no_report_yet_says_how_to_make_one(make_settings: Any, dev_client: Client) -> None:
    app = build_app(make_settings(), dev_client)
    async with dashboard_client(app, htmx=False) as http:
        page = (await http.get("/reports")).text
    assert "No report yet: <code>taskrunner enqueue report" in page
