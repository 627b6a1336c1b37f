"""The report's PDF: a summary, the chart and the per-group totals first, then every row.

Numbers are right-aligned and written with their column's decimals; the rows end
with a totals row. Core fonts only (Helvetica): nothing to embed, Latin-1 text.
"""

from __future__ import annotations

import io

from fpdf import FPDF
from fpdf.enums import TableCellFillMode
from fpdf.fonts import FontFace
from fpdf.table import Row

from taskrunner.tasks.report_files import ReportDocument
from taskrunner.tasks.report_table import TOTAL_LABEL, ReportTable

PDF_FONT = "Helvetica"
"""One of the PDF core fonts: nothing to embed, Latin-1 text only."""
TABLE_FONT_SIZE = 9
HEADING_FILL = 225
"""Grey level behind headings and totals rows."""
STRIPE_FILL = 245
"""Grey level behind every other row: the eye keeps its line across a wide table."""
CHART_WIDTH_MM = 190.0
"""The chart's width on the page (at most the page's text width)."""
GROUP_COLUMN_MM = 34.0
"""Width of each column of a per-group totals table."""

_HEADINGS = FontFace(emphasis="BOLD", fill_color=HEADING_FILL)
_TOTALS = FontFace(emphasis="BOLD", fill_color=HEADING_FILL)


def _latin1(text: str) -> str:
    # Core fonts cannot draw characters outside Latin-1; show them as '?', not a crash.
    return text.encode("latin-1", "replace").decode("latin-1")


class _ReportPdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(PDF_FONT, size=8)
        self.cell(0, 8, f"Page {self.page_no()}/{{nb}}", align="C")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font(PDF_FONT, style="B", size=11)
        self.cell(0, 7, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(PDF_FONT, size=TABLE_FONT_SIZE)

    def grid(
        self,
        rows: list[list[str]],
        numeric: list[bool],
        total: list[str] | None,
        width: float | None = None,
    ) -> None:
        """A table: ``rows[0]`` is the header (repeated on each page), ``total`` the last row."""
        align = tuple("RIGHT" if n else "LEFT" for n in numeric)
        with self.table(
            headings_style=_HEADINGS,
            text_align=align,
            cell_fill_color=STRIPE_FILL,
            cell_fill_mode=TableCellFillMode.EVEN_ROWS,
            width=width,
            align="LEFT",
        ) as table:
            for row in rows:
                cells = table.row()
                for value in row:
                    cells.cell(_latin1(value))
            if total is not None:
                _totals_row(table.row(), total)


def _totals_row(row: Row, total: list[str]) -> None:
    # "Total" spans the leading columns that have no total of their own.
    leading = next((i for i, value in enumerate(total) if value), len(total))
    if leading:
        row.cell(TOTAL_LABEL, style=_TOTALS, colspan=leading)
    for value in total[leading:]:
        row.cell(_latin1(value), style=_TOTALS)


def render_pdf(
    doc: ReportDocument, table: ReportTable, chart: tuple[str, bytes] | None = None
) -> tuple[bytes, int]:
    """The PDF bytes and their page count; ``chart``: its caption and PNG, on the first page."""
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
    if chart is not None:
        caption, png = chart
        pdf.heading(caption)
        width = min(CHART_WIDTH_MM, pdf.epw)
        pdf.image(io.BytesIO(png), x=pdf.l_margin, w=width, alt_text=_latin1(caption))
    for group in table.groups:
        pdf.heading(f"Totals by {group.column}")
        numeric = [False] + [True] * (len(group.header) - 1)
        width = min(pdf.epw, GROUP_COLUMN_MM * len(group.header))
        pdf.grid([group.header, *group.rows], numeric, group.total, width=width)
    pdf.heading("All rows" if doc.rows else "No rows for this period.")
    if doc.rows or table.total is not None:
        pdf.grid([table.header, *table.rows], table.numeric, table.total)
    data = bytes(pdf.output())
    return data, pdf.pages_count
