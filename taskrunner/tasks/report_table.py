"""The report's numbers: which columns hold numbers, how they are written, and their totals.

Sums are exact (``Decimal``) and taken over the raw values, so a total is the sum
of the CSV's column, whatever the PDF rounds each row to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from taskrunner.tasks.report_files import ReportDocument, cell_text

MAX_INFERRED_DECIMALS = 6
"""Decimals at most for a numeric column the report's ``decimals`` does not name."""
NO_VALUE = "(none)"
"""The group an empty cell of a ``group_by`` column counts under."""
COUNT_LABEL = "Rows"
"""Header of the row count in the per-group totals tables."""
TOTAL_LABEL = "Total"


class ReportLayoutError(ValueError):
    """The report's presentation settings do not fit what its query returned."""


def number(value: Any, column: str) -> Decimal | None:
    """``value`` as an exact number (None for an empty cell), or a ReportLayoutError."""
    if value is None or value == "":
        return None
    parsed: Decimal | None = None
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        parsed = Decimal(value)
    elif isinstance(value, float | str):
        # repr: 39.98 is Decimal("39.98"), not the binary float's 39.97999999999999687361...
        text = repr(value) if isinstance(value, float) else value.strip()
        try:
            parsed = Decimal(text)
        except InvalidOperation:
            parsed = None
    if parsed is None or not parsed.is_finite():
        raise ReportLayoutError(f"column {column!r} holds {cell_text(value)!r}, not a number")
    return parsed


def formatted(value: Decimal, decimals: int) -> str:
    """A number as the PDF writes it: thousands separated, a fixed count of decimals."""
    return f"{value:,.{decimals}f}"


def group_key(value: Any) -> str:
    """The label a ``group_by`` (or chart ``stack``) value is counted under."""
    return cell_text(value).strip() or NO_VALUE


@dataclass(frozen=True)
class GroupTotals:
    """One small table: a line per value of ``column``, with the row count and the totals."""

    column: str
    header: list[str]
    rows: list[list[str]]
    total: list[str]


@dataclass(frozen=True)
class ReportTable:
    """What the PDF's tables show, every cell already written out."""

    header: list[str]
    numeric: list[bool]
    """Per column: numbers, right-aligned."""
    rows: list[list[str]]
    total: list[str] | None
    """The totals row: a total under each ``totals`` column, "" elsewhere; None without totals."""
    groups: list[GroupTotals]


def _places(value: Any, parsed: Decimal) -> int:
    if isinstance(value, int):
        return 0
    exponent = parsed.as_tuple().exponent
    return min(max(-exponent, 0), MAX_INFERRED_DECIMALS) if isinstance(exponent, int) else 0


def _holds_numbers(values: list[Any]) -> bool:
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in present
    )


@dataclass(frozen=True)
class _NumberColumn:
    values: list[Decimal | None]
    decimals: int

    def text(self, row: int) -> str:
        value = self.values[row]
        return "" if value is None else formatted(value, self.decimals)

    def total(self, rows: Iterable[int]) -> str:
        return formatted(
            sum((self.values[r] or Decimal(0) for r in rows), Decimal(0)), self.decimals
        )


def _number_columns(doc: ReportDocument) -> dict[int, _NumberColumn]:
    """The columns that hold numbers (or are declared to), by position."""
    found = {}
    for i, name in enumerate(doc.header):
        values = [row[i] for row in doc.rows]
        if name in doc.decimals or name in doc.totals or _holds_numbers(values):
            parsed = [number(v, name) for v in values]
            places = [_places(v, n) for v, n in zip(values, parsed, strict=True) if n is not None]
            found[i] = _NumberColumn(parsed, doc.decimals.get(name, max(places, default=0)))
    return found


def summarize(doc: ReportDocument) -> ReportTable:
    """Numbers written with their column's decimals, the totals row and the group tables.

    Every column the document's presentation names must be in its header.
    """
    numbers = _number_columns(doc)
    summed = [numbers[doc.header.index(name)] for name in doc.totals]
    everything = range(len(doc.rows))

    def line(label: str, rows: Sequence[int]) -> list[str]:
        return [label, formatted(Decimal(len(rows)), 0), *(c.total(rows) for c in summed)]

    groups = []
    for name in doc.group_by if doc.rows else []:
        at = doc.header.index(name)
        members: dict[str, list[int]] = {}
        for r, row in enumerate(doc.rows):
            members.setdefault(group_key(row[at]), []).append(r)
        ordered = sorted(members.items(), key=lambda item: item[0].casefold())
        groups.append(
            GroupTotals(
                column=name,
                header=[name, COUNT_LABEL, *doc.totals],
                rows=[line(key, rows) for key, rows in ordered],
                total=line(TOTAL_LABEL, everything),
            )
        )
    total = None
    if summed:
        positions = {doc.header.index(name) for name in doc.totals}
        total = [
            numbers[i].total(everything) if i in positions else "" for i in range(len(doc.header))
        ]
    return ReportTable(
        header=doc.header,
        numeric=[i in numbers for i in range(len(doc.header))],
        rows=[
            [numbers[i].text(r) if i in numbers else cell_text(row[i]) for i in range(len(row))]
            for r, row in enumerate(doc.rows)
        ],
        total=total,
        groups=groups,
    )
