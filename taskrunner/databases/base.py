"""The one interface every database kind implements, for maintenance and for tasks.

Maintenance vacuums, analyzes and backs up a database; the report and dataSync
tasks open a session on it (``connect``) to query, create tables and upsert.
Both roles go through the same object, so each kind has one connection setup
and one translation of driver errors.
"""

from __future__ import annotations

import contextlib
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple, Self, TypeVar

from temporalio.exceptions import ApplicationError

from taskrunner.errors import NEVER_RETRIED, invalid_task_data

E = TypeVar("E", bound=Exception)

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
"""Table and column names accepted (63 is PostgreSQL's identifier limit)."""

ColumnKind = Literal["text", "json"]
"""How a synced column stores values: text, or JSON (JSONB on PostgreSQL)."""


class SizeChange(NamedTuple):
    before: int
    after: int


class BackupCheck(NamedTuple):
    tables: int
    verification: str


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    truncated: bool
    """True when the query had more rows than the report's ``max_rows``."""


def quote_ident(name: str) -> str:
    """``name`` double-quoted, after checking it is a plain identifier.

    Identifiers cannot be bound as query parameters, so this strict check is
    what keeps table and column names from carrying SQL.
    """
    if not IDENTIFIER.fullmatch(name):
        raise invalid_task_data(
            f"{name!r} is not a valid table or column name "
            "(letters, digits and _, not starting with a digit, at most 63)"
        )
    return f'"{name}"'


def to_text(value: Any) -> str | None:
    """A record value for a text column: strings as they are, anything else as JSON."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def upsert_statement(
    table: str,
    key: str,
    columns: dict[str, ColumnKind],
    records: list[dict[str, Any]],
    placeholder: str,
    as_json: Callable[[Any], Any],
) -> tuple[str, list[list[Any]]]:
    """One ``INSERT ... ON CONFLICT (key) DO UPDATE`` for every kind, and its rows.

    ``placeholder`` is the driver's positional one (``?`` for sqlite3, ``%s`` for
    psycopg); ``excluded`` names the proposed row in SQLite and PostgreSQL alike.
    Values of JSON columns go through ``as_json``, the others are stored as text.
    """
    names = list(columns)
    quoted = [quote_ident(c) for c in names]
    updates = [f"{q} = excluded.{q}" for c, q in zip(names, quoted, strict=True) if c != key]
    action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
    values = ", ".join(placeholder for _ in names)
    sql = (
        f"INSERT INTO {quote_ident(table)} ({', '.join(quoted)}) "
        f"VALUES ({values}) ON CONFLICT ({quote_ident(key)}) {action}"
    )
    rows = [
        [
            as_json(r[c]) if kind == "json" and r.get(c) is not None else to_text(r.get(c))
            for c, kind in columns.items()
        ]
        for r in records
    ]
    return sql, rows


def schema_change(
    table: str, key: str, columns: dict[str, ColumnKind], existing: dict[str, ColumnKind]
) -> tuple[dict[str, ColumnKind], dict[str, ColumnKind]]:
    """The columns ``existing`` lacks, and the kind each of ``columns`` is written with.

    An existing column keeps its kind: the table decides how values are stored.
    """
    if key not in existing:
        raise invalid_task_data(f"table {table} has no column {key!r} to upsert by")
    missing = {name: kind for name, kind in columns.items() if name not in existing}
    return missing, {name: existing.get(name, kind) for name, kind in columns.items()}


@contextlib.contextmanager
def translated(
    what: str,
    driver_error: type[E],
    classify: Callable[[E], str],
    scrub: Callable[[str], str] = str,
) -> Iterator[None]:
    """Turn a driver error raised in the block into a one-line ``ApplicationError``.

    ``classify`` names its type (an ``errors`` constant); the types no retry can
    fix (``NEVER_RETRIED``) are raised non-retryable, the others are retried.
    ``scrub`` removes secrets from the driver's text (it goes into history and alerts),
    and the text is made one line (libpq adds hints on lines of their own).
    """
    try:
        yield
    except driver_error as err:
        error_type = classify(err)
        said = re.sub(r"\s*\n\s*", " ", str(err).strip())
        raise ApplicationError(
            scrub(f"{what}: {said}"),
            type=error_type,
            non_retryable=error_type in NEVER_RETRIED,
        ) from None


class Database(ABC):
    """One database, for maintenance and for task sessions. Methods block: call them in a thread.

    Driver errors come out as ``ApplicationError``: retryable ``DatabaseUnavailable``
    when the database may recover (unreachable, locked), non-retryable
    ``ConfigurationError`` when the setup or query is wrong and ``InvalidTaskData``
    when the records are.
    """

    suffix: str
    """File name ending of this kind's backups (``.db``, ``.dump``)."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the database is, safe to show (no password)."""

    # -- maintenance: each call opens and closes its own connection --------------

    @abstractmethod
    def vacuum(self) -> SizeChange:
        """Reclaim free space; return the database size in bytes before and after."""

    @abstractmethod
    def analyze(self) -> int:
        """Refresh planner statistics; return how many tables were analysed."""

    @abstractmethod
    def backup(self, dest: Path) -> BackupCheck:
        """Write a consistent backup to ``dest`` and verify it; raise when it is not sound."""

    @abstractmethod
    def interrupt(self) -> None:
        """Stop the maintenance operation running in another thread (best effort, on cancel)."""

    # -- task session: one connection from connect() to close() ------------------

    @abstractmethod
    def connect(self) -> Self:
        """Open the task session (``with db.connect() as session:`` closes it)."""

    @abstractmethod
    def query(self, sql: str, params: dict[str, Any], max_rows: int) -> QueryResult:
        """Run a SELECT with named ``:param`` placeholders; at most ``max_rows`` rows."""

    @abstractmethod
    def table_columns(self, table: str) -> dict[str, ColumnKind] | None:
        """The table's columns and kinds, or None when it does not exist."""

    @abstractmethod
    def create_table(self, table: str, key: str, columns: dict[str, ColumnKind]) -> None:
        """Create ``table`` (if missing) with ``key`` as its text primary key."""

    @abstractmethod
    def ensure_table(
        self, table: str, key: str, columns: dict[str, ColumnKind]
    ) -> dict[str, ColumnKind]:
        """Create ``table`` or add the columns it lacks, as one step other sessions cannot split.

        Returns the kind each column is written with (an existing column keeps its
        own). Concurrent syncs into one new table each bringing other columns all
        succeed; an existing table without the ``key`` column is ``InvalidTaskData``.
        """

    @abstractmethod
    def upsert(
        self, table: str, key: str, columns: dict[str, ColumnKind], records: list[dict[str, Any]]
    ) -> None:
        """Insert or update ``records`` by ``key`` and commit."""

    @abstractmethod
    def seed_sales(self, table: str, now: datetime) -> bool:
        """Create and fill the demo sales table when it is missing; True if it did."""

    @abstractmethod
    def close(self) -> None:
        """Close the task session, if it is open."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
