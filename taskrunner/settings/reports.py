"""Report declarations: the ``reports`` settings section and the built-in ``sales`` report.

A report is a named SQL query plus how to present it. Reports come from settings
(``[reports.<name>]`` tables in the TOML file); the built-in ``sales`` report is
always present unless a report of that name is declared.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

REPORT_NAME_PATTERN = r"^[A-Za-z0-9_-]+$"
"""What a report name may hold (the same rule as the report task's ``report_type``)."""
DEFAULT_MAX_ROWS = 10_000
"""Rows a report reads at most; a query returning more is cut there and says so."""

PERIOD_LENGTHS = {
    "daily": timedelta(days=1),
    "weekly": timedelta(days=7),
    "monthly": timedelta(days=30),
}
"""How far back from the run time each report period reaches (the window is ``[start, end)``)."""

SALES_TABLE = "sales"
"""The demo table the built-in sales report reads (seeded when missing)."""


class ReportChart(BaseModel):
    """A bar chart on the report's first page: ``y`` summed per day of ``x``, stacked by ``stack``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    x: str = Field(min_length=1)
    """A date or timestamp column (header label): one bar per day, in UTC."""
    y: str = Field(min_length=1)
    """A numeric column (header label): what the bars add up."""
    stack: str | None = None
    """A column (header label) whose values stack each bar, one colour each."""


class ReportSpec(BaseModel):
    """One report: its query and how it is presented.

    The query may use three named parameters, bound by the database driver
    (never formatted into the text): ``:start`` and ``:end`` (the period window,
    ending when the report runs: 1, 7 or 30 days) and ``:period`` (its name).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=200)
    sql: str = Field(min_length=1)
    """A SELECT statement; its column names become the table header unless ``columns`` is set."""
    columns: list[str] | None = None
    """Header labels, one per query column (default: the query's column names)."""
    seed_table: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
    """Demo sales table created and filled with sample rows when missing (the built-in report)."""
    max_rows: int = Field(default=DEFAULT_MAX_ROWS, ge=1, le=1_000_000)
    decimals: dict[str, Annotated[int, Field(ge=0, le=10)]] = {}
    """Decimals of numeric columns, by header label (others: as many as their values have)."""
    totals: list[str] = []
    """Numeric columns (header labels) summed in a totals row, and per group of ``group_by``."""
    group_by: list[str] = []
    """Columns (header labels) whose values each get a line in a small totals table."""
    chart: ReportChart | None = None

    def named_columns(self) -> list[str]:
        """The header labels the presentation settings name (each must be a column)."""
        chart = [self.chart.x, self.chart.y, self.chart.stack] if self.chart else []
        named = [*self.decimals, *self.totals, *self.group_by, *chart]
        return [name for name in dict.fromkeys(named) if name is not None]

    @model_validator(mode="after")
    def _names_its_columns(self) -> ReportSpec:
        # Without ``columns`` the header is the query's, known only when the report runs.
        unknown = [name for name in self.named_columns() if name not in (self.columns or [name])]
        if unknown:
            columns = ", ".join(self.columns or [])
            raise ValueError(f"{unknown[0]!r} is not one of the report's columns ({columns})")
        return self


def sales_report(table: str = SALES_TABLE) -> ReportSpec:
    """The built-in sales report: every sale of the period, over the (seeded) ``table``."""
    return ReportSpec(
        title="Sales",
        sql=(
            "SELECT sold_at, region, product, quantity, amount "
            f"FROM {table} WHERE sold_at >= :start AND sold_at < :end "
            "ORDER BY sold_at, id"
        ),
        columns=["Sold at (UTC)", "Region", "Product", "Quantity", "Amount"],
        seed_table=table,
        decimals={"Quantity": 0, "Amount": 2},
        totals=["Quantity", "Amount"],
        group_by=["Region", "Product"],
        chart=ReportChart(x="Sold at (UTC)", y="Amount", stack="Region"),
    )


def default_reports() -> dict[str, ReportSpec]:
    """The reports every installation has."""
    return {"sales": sales_report()}


def _with_defaults(reports: dict[str, ReportSpec]) -> dict[str, ReportSpec]:
    bad = [name for name in reports if not re.fullmatch(REPORT_NAME_PATTERN, name)]
    if bad:
        raise ValueError(f"report names may hold letters, digits, _ and - only: {bad[0]!r}")
    # Declaring one report must not silently remove the built-in ones.
    return {**default_reports(), **reports}


Reports = Annotated[dict[str, ReportSpec], AfterValidator(_with_defaults)]
"""The ``reports`` settings field: declared reports merged over the built-in ones."""
