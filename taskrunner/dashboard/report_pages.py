"""The reports page: every file the report task wrote (CSV and PDF), to open or download.

The files are the ones in this machine's ``<data_dir>/reports`` (where ``taskrunner run``
and its worker write them); a dashboard on another machine than the worker's lists what
its own folder holds, and says where it looks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from taskrunner.dashboard.app import dashboard_of, not_found

SHOWN = (".pdf", ".csv")
"""What the report task writes: a PDF for people and a raw CSV."""
MEDIA_TYPES = {".pdf": "application/pdf", ".csv": "text/csv; charset=utf-8"}


@dataclass(frozen=True)
class ReportFile:
    name: str
    size: int
    modified: datetime


def report_files(folder: Path) -> list[ReportFile]:
    """The report files in ``folder``, newest first (none when it does not exist yet)."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if path.suffix.lower() in SHOWN and path.is_file() and not path.is_symlink():
            stat = path.stat()
            found.append(
                ReportFile(path.name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC))
            )
    return sorted(found, key=lambda f: (f.modified, f.name), reverse=True)


async def reports_page(request: Request) -> Response:
    dashboard = dashboard_of(request)
    folder = dashboard.settings.reports_dir
    return dashboard.page(
        request, "reports.html", files=report_files(folder), folder=folder.resolve()
    )


async def report_file(request: Request) -> Response:
    """One report file, by its name in the reports folder (nothing outside it)."""
    name = request.path_params["name"]
    folder = dashboard_of(request).settings.reports_dir
    known = {f.name for f in report_files(folder)}
    if name not in known:
        return not_found(request, f"no report file {name!r} in {folder.resolve()}")
    suffix = Path(name).suffix.lower()
    disposition = "inline" if suffix == ".pdf" else "attachment"
    return FileResponse(
        folder / name,
        media_type=MEDIA_TYPES[suffix],
        filename=name,
        content_disposition_type=disposition,
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/reports", reports_page, name="reports"),
        Route("/reports/{name}", report_file, name="report_file"),
    ]
