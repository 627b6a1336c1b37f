"""The report task's document (the rows and how to present them) and its raw CSV.

The PDF is drawn from the same document: ``report_table`` works out the numbers,
``report_chart`` the picture, ``report_pdf`` the pages.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from taskrunner.settings.reports import ReportChart


def cell_text(value: Any) -> str:
    """How one query value is written in the CSV: as the database gave it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(value)


@dataclass(frozen=True)
class ReportDocument:
    title: str
    period: str
    start: datetime
    end: datetime
    generated_at: datetime
    header: list[str]
    rows: Sequence[Sequence[Any]]
    """The query's values, one sequence per row, in ``header`` order."""
    truncated: bool
    decimals: dict[str, int] = field(default_factory=dict)
    totals: list[str] = field(default_factory=list)
    group_by: list[str] = field(default_factory=list)
    chart: ReportChart | None = None


def render_csv(doc: ReportDocument) -> bytes:
    """The header and the raw rows as UTF-8 CSV (no formatting, no totals)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(doc.header)
    writer.writerows([cell_text(value) for value in row] for row in doc.rows)
    return buffer.getvalue().encode()
