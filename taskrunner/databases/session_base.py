"""What the task activities need from the application database, whatever its engine."""

from __future__ import annotations

import abc
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from temporalio.exceptions import ApplicationError

from taskrunner.errors import INVALID_TASK_DATA

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
"""Table and column names accepted (63 is PostgreSQL's identifier limit)."""

ColumnKind = Literal["text", "json"]
"""How a synced column stores values: text, or JSON (JSONB on PostgreSQL)."""


def quote_ident(name: str) -> str:
    """``name`` double-quoted, after checking it is a plain identifier.

    Identifiers cannot be bound as query parameters, so this strict check is
    what keeps table and column names from carrying SQL.
    """
    if not IDENTIFIER.fullmatch(name):
        raise ApplicationError(
            f"{name!r} is not a valid table or column name "
            "(letters, digits and _, not starting with a digit, at most 63)",
            type=INVALID_TASK_DATA,
            non_retryable=True,
        )
    return f'"{name}"'


def to_text(value: Any) -> str | None:
    """A record value for a text column: strings as they are, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    """True when the query had more rows than the report's ``max_rows``."""


class DbSession(abc.ABC):
    """One open connection. Methods block: call them through ``asyncio.to_thread``.

    Driver errors come out as ``ApplicationError``: retryable when the database
    may recover (unreachable, locked), non-retryable when the query or data is wrong.
    """

    @abc.abstractmethod
    def query(self, sql: str, params: dict[str, Any], max_rows: int) -> QueryResult:
        """Run a SELECT with named ``:param`` placeholders; at most ``max_rows`` rows."""

    @abc.abstractmethod
    def table_columns(self, table: str) -> dict[str, ColumnKind] | None:
        """The table's columns and kinds, or None when it does not exist."""

    @abc.abstractmethod
    def create_table(self, table: str, key: str, columns: dict[str, ColumnKind]) -> None:
        """Create ``table`` (if missing) with ``key`` as its text primary key."""

    @abc.abstractmethod
    def add_columns(self, table: str, columns: dict[str, ColumnKind]) -> None:
        """Add columns that later records brought."""

    @abc.abstractmethod
    def upsert(
        self, table: str, key: str, columns: dict[str, ColumnKind], records: list[dict[str, Any]]
    ) -> None:
        """Insert or update ``records`` by ``key`` and commit."""

    @abc.abstractmethod
    def seed_sales(self, table: str, now: datetime) -> bool:
        """Create and fill the demo sales table when it is missing; True if it did."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> DbSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


DEMO_SALES_ROWS = 60
"""Rows seeded into the demo sales table: one sale every 12 hours over 30 days."""
_REGIONS = ("North", "South", "East", "West")
_PRODUCTS = (("Widget", 19.99), ("Gadget", 34.50), ("Gizmo", 7.25), ("Doohickey", 12.00))


def demo_sales(now: datetime) -> list[tuple[int, datetime, str, str, int, float]]:
    """The demo rows: fixed products, regions and amounts, dated back from ``now``.

    Dates are relative to the seeding time so a fresh installation's daily,
    weekly and monthly reports all have rows (2, 14 and 60).
    """
    anchor = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    rows = []
    for i in range(DEMO_SALES_ROWS):
        product, price = _PRODUCTS[(i + i // 4) % len(_PRODUCTS)]
        quantity = 1 + (i * 7) % 5
        sold_at = anchor - timedelta(hours=12 * i + 1)
        rows.append(
            (i + 1, sold_at, _REGIONS[i % 4], product, quantity, round(quantity * price, 2))
        )
    return rows
