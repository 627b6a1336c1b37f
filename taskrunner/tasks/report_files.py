"""The report task's output files: a PDF with the rows as a table, and the same rows as CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace

PDF_FONT = "Helvetica"
"""One of the PDF core fonts: nothing to embed, Latin-1 text only."""


def cell_text(value: Any) -> str:
    """How one query value is written, in the CSV and in the PDF alike."""
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
    rows: list[list[str]]
    truncated: bool


def _latin1(text: str) -> str:
    # Core fonts cannot draw characters outside Latin-1; show them as '?', not a crash.
    return text.encode("latin-1", "replace").decode("latin-1")


class _ReportPdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(PDF_FONT, size=8)
        self.cell(0, 8, f"Page {self.page_no()}/{{nb}}", align="C")


def render_pdf(doc: ReportDocument) -> tuple[bytes, int]:
    """The PDF bytes and their page count."""
    pdf = _ReportPdf(orientation="landscape" if len(doc.header) > 6 else "portrait")
    pdf.set_title(_latin1(doc.title))
    pdf.set_creator("temporal-task-runner")
    pdf.add_page()
    pdf.set_font(PDF_FONT, style="B", size=16)
    pdf.cell(0, 10, _latin1(doc.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(PDF_FONT, size=10)
    summary = [
        f"Period: {doc.period}, {doc.start:%Y-%m-%d %H:%M} to {doc.end:%Y-%m-%d %H:%M} UTC",
        f"Generated: {doc.generated_at:%Y-%m-%d %H:%M:%S} UTC",
        f"Rows: {len(doc.rows)}" + (" (cut at the report's max_rows)" if doc.truncated else ""),
    ]
    for line in summary:
        pdf.cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    if doc.rows:
        pdf.set_font(PDF_FONT, size=9)
        # The header row is repeated at the top of every page.
        with pdf.table(headings_style=FontFace(emphasis="BOLD"), text_align="LEFT") as table:
            for row in [doc.header, *doc.rows]:
                cells = table.row()
                for value in row:
                    cells.cell(_latin1(value))
    else:
        pdf.cell(0, 6, "No rows for this period.", new_x="LMARGIN", new_y="NEXT")
    data = bytes(pdf.output())
    return data, pdf.pages_count


def render_csv(doc: ReportDocument) -> bytes:
    """The header and rows as UTF-8 CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(doc.header)
    writer.writerows(doc.rows)
    return buffer.getvalue().encode()
