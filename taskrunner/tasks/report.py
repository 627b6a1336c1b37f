"""The ``report`` task type: a declared SQL query rendered as PDF and CSV."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator
from temporalio import activity
from temporalio.exceptions import ApplicationError

from taskrunner.databases import (
    QueryResult,
    open_database,
)
from taskrunner.errors import CONFIGURATION_ERROR, invalid_task_data
from taskrunner.settings import Settings
from taskrunner.settings.reports import (
    PERIOD_LENGTHS,
    ReportSpec,
)
from taskrunner.tasks.common import (
    file_stem,
    heartbeating,
    write_atomically,
)
from taskrunner.tasks.declare import TaskContext, task_type
from taskrunner.tasks.registry import TaskPayload, TaskResult
from taskrunner.tasks.report_chart import ChartData, chart_data, draw_chart
from taskrunner.tasks.report_files import ReportDocument, render_csv
from taskrunner.tasks.report_table import ReportLayoutError, ReportTable, summarize

KNOWN_REPORTS = "known_reports"
"""Validation context key: the report names the settings declare (``reports``)."""


class ReportPayload(TaskPayload):
    report_type: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    """Name of a report declared in settings (``reports``), e.g. ``sales``."""
    period: Literal["daily", "weekly", "monthly"] = "daily"
    """The window the report covers, ending when it runs: 1, 7 or 30 days."""

    @field_validator("report_type")
    @classmethod
    def _declared(cls, name: str, info: ValidationInfo) -> str:
        # Checked when the caller knows the settings' reports (context), e.g. at enqueue.
        known = (info.context or {}).get(KNOWN_REPORTS)
        if known is not None and name not in known:
            raise ValueError(f"unknown report {name!r} (known reports: {', '.join(known)})")
        return name


@task_type(
    "report",
    payload=ReportPayload,
    timeout=timedelta(minutes=10),
    heartbeat=timedelta(seconds=30),
)
class ReportTask:
    """The task_report activity, over the configured database and reports folder."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._reports = settings.reports
        self._directory = settings.reports_dir

    def _spec(self, name: str) -> ReportSpec:
        spec = self._reports.get(name)
        if spec is None:
            known = ", ".join(sorted(self._reports)) or "none"
            raise invalid_task_data(f"unknown report {name!r} (known reports: {known})")
        return spec

    def _query(self, spec: ReportSpec, start: datetime, end: datetime, period: str) -> QueryResult:
        with open_database(self._settings.database, self._settings).connect() as session:
            if spec.seed_table:
                session.seed_sales(spec.seed_table, end)
            return session.query(
                spec.sql, {"start": start, "end": end, "period": period}, spec.max_rows
            )

    def _write(self, path: Path, data: bytes) -> str:
        write_atomically(path, data)
        # Absolute: the result is read elsewhere (CLI, web UI), not in the worker's folder.
        return str(path.resolve())

    async def run(self, payload: ReportPayload, ctx: TaskContext) -> TaskResult:
        spec = self._spec(payload.report_type)
        activity.logger.info(f"Generating report: {payload.report_type}...")
        end = datetime.now(UTC)
        start = end - PERIOD_LENGTHS[payload.period]
        stage = "query"
        async with heartbeating(lambda: {"stage": stage}):
            result = await asyncio.to_thread(self._query, spec, start, end, payload.period)
            doc = _document(payload, spec, result, start, end)
            table, chart = _laid_out(payload.report_type, doc)
            picture = None
            if chart is not None:
                stage = "chart"
                png = await asyncio.to_thread(draw_chart, chart, self._settings.data_dir)
                picture = (chart.title, png)
            stage = "render"
            # fpdf (with fontTools and numpy) takes about 0.4 s to import: every CLI
            # command loads the task types, and only a report's run needs it.
            from taskrunner.tasks.report_pdf import render_pdf

            pdf, pages = await asyncio.to_thread(render_pdf, doc, table, picture)
            stem = f"{payload.report_type}_{payload.period}_{file_stem(ctx.task_id)}"
            stage = "write"
            pdf_path = await asyncio.to_thread(self._write, self._directory / f"{stem}.pdf", pdf)
            csv_path = await asyncio.to_thread(
                self._write, self._directory / f"{stem}.csv", render_csv(doc)
            )
        return TaskResult(
            summary=f"Report {payload.report_type} ({payload.period}): "
            f"{_count(len(doc.rows), 'row')}, {_count(pages, 'page')}: {pdf_path} (and .csv)",
            details={
                "pdf": pdf_path,
                "csv": csv_path,
                "rows": len(doc.rows),
                "pages": pages,
                "truncated": result.truncated,
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
        )


def _configuration_error(message: str) -> ApplicationError:
    return ApplicationError(message, type=CONFIGURATION_ERROR, non_retryable=True)


def _document(
    payload: ReportPayload, spec: ReportSpec, result: QueryResult, start: datetime, end: datetime
) -> ReportDocument:
    """The rows and how to present them, once they are checked against the settings."""
    name = payload.report_type
    header = spec.columns or result.columns
    if len(header) != len(result.columns):
        raise _configuration_error(
            f"report {name!r} declares {len(header)} columns "
            f"but its query returns {len(result.columns)}"
        )
    unknown = [column for column in spec.named_columns() if column not in header]
    if unknown:
        raise _configuration_error(
            f"report {name!r} names column {unknown[0]!r} in its settings, "
            f"but its query's columns are {', '.join(header)}"
        )
    return ReportDocument(
        title=f"{spec.title} report",
        period=payload.period,
        start=start,
        end=end,
        generated_at=datetime.now(UTC),
        header=header,
        rows=list(result.rows),
        truncated=result.truncated,
        decimals=spec.decimals,
        totals=spec.totals,
        group_by=spec.group_by,
        chart=spec.chart,
    )


def _laid_out(name: str, doc: ReportDocument) -> tuple[ReportTable, ChartData | None]:
    """The tables' text and the chart's sums; settings that do not fit the rows fail for good."""
    try:
        return summarize(doc), chart_data(doc)
    except ReportLayoutError as err:
        raise _configuration_error(f"report {name!r}: {err}") from None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
