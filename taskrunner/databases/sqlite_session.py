"""The application database as a SQLite file (the embedded default)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio.exceptions import ApplicationError

from taskrunner.databases.session_base import (
    ColumnKind,
    DbSession,
    QueryResult,
    quote_ident,
    to_text,
)
from taskrunner.databases.session_base import demo_sales as _demo_sales
from taskrunner.errors import CONFIGURATION_ERROR, DATABASE_UNAVAILABLE, INVALID_TASK_DATA

BUSY_TIMEOUT_SECONDS = 30.0
"""How long a statement waits for another writer's lock before failing (retryably)."""
SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
"""Timestamps are stored in SQLite's own format, in UTC, so they compare as text."""


def _param(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(SQLITE_TIME_FORMAT)
    return value


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as err:
        text = str(err)
        transient = "locked" in text or "busy" in text or "unable to open" in text
        raise ApplicationError(
            f"{what}: {text}",
            type=DATABASE_UNAVAILABLE if transient else CONFIGURATION_ERROR,
            non_retryable=not transient,
        ) from None
    except sqlite3.Error as err:  # integrity, data and programming errors: bad data or query
        raise ApplicationError(
            f"{what}: {err}", type=INVALID_TASK_DATA, non_retryable=True
        ) from None


class SqliteSession(DbSession):
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _translated(f"cannot open SQLite database {path}"):
            # Each call may run on another to_thread worker, one at a time.
            self._conn = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False
            )

    def query(self, sql: str, params: dict[str, Any], max_rows: int) -> QueryResult:
        with _translated("report query failed"):
            cursor = self._conn.execute(sql, {k: _param(v) for k, v in params.items()})
            columns = [d[0] for d in cursor.description or ()]
            rows = cursor.fetchmany(max_rows + 1)
            cursor.close()
        return QueryResult(columns, [tuple(r) for r in rows[:max_rows]], len(rows) > max_rows)

    def table_columns(self, table: str) -> dict[str, ColumnKind] | None:
        with _translated(f"cannot read table {table}"):
            rows = self._conn.execute(f"PRAGMA table_info({quote_ident(table)})").fetchall()
        # SQLite has no JSON type: JSON is stored as text either way.
        return {row[1]: "text" for row in rows} or None

    def create_table(self, table: str, key: str, columns: dict[str, ColumnKind]) -> None:
        others = [f"{quote_ident(c)} TEXT" for c in columns if c != key]
        ddl = ", ".join([f"{quote_ident(key)} TEXT PRIMARY KEY", *others])
        with _translated(f"cannot create table {table}"), self._conn:
            self._conn.execute(f"CREATE TABLE IF NOT EXISTS {quote_ident(table)} ({ddl})")

    def add_columns(self, table: str, columns: dict[str, ColumnKind]) -> None:
        with _translated(f"cannot add columns to {table}"), self._conn:
            for column in columns:
                self._conn.execute(
                    f"ALTER TABLE {quote_ident(table)} ADD COLUMN {quote_ident(column)} TEXT"
                )

    def upsert(
        self, table: str, key: str, columns: dict[str, ColumnKind], records: list[dict[str, Any]]
    ) -> None:
        names = list(columns)
        quoted = [quote_ident(c) for c in names]
        updates = [f"{q} = excluded.{q}" for c, q in zip(names, quoted, strict=True) if c != key]
        action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
        sql = (
            f"INSERT INTO {quote_ident(table)} ({', '.join(quoted)}) "
            f"VALUES ({', '.join('?' for _ in names)}) ON CONFLICT({quote_ident(key)}) {action}"
        )
        rows = [
            [
                json.dumps(r.get(c), ensure_ascii=False)
                if columns[c] == "json" and r.get(c) is not None
                else to_text(r.get(c))
                for c in names
            ]
            for r in records
        ]
        with _translated(f"cannot upsert into {table}"), self._conn:
            self._conn.executemany(sql, rows)

    def seed_sales(self, table: str, now: datetime) -> bool:
        name = quote_ident(table)
        with _translated(f"cannot seed demo table {table}"), self._conn:
            # BEGIN IMMEDIATE: two reports seeding at once must not both fill the table.
            self._conn.execute("BEGIN IMMEDIATE")
            if self.table_columns(table) is not None:
                return False
            self._conn.execute(
                f"CREATE TABLE {name} (id INTEGER PRIMARY KEY, sold_at TEXT NOT NULL, "
                "region TEXT NOT NULL, product TEXT NOT NULL, quantity INTEGER NOT NULL, "
                "amount REAL NOT NULL)"
            )
            self._conn.executemany(
                f"INSERT INTO {name} VALUES (?, ?, ?, ?, ?, ?)",
                [(r[0], _param(r[1]), *r[2:]) for r in _demo_sales(now)],
            )
        return True

    def close(self) -> None:
        self._conn.close()
