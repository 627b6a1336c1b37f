"""The application database on PostgreSQL (``database.kind = "postgres"``)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
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

CONNECT_TIMEOUT_SECONDS = 10
"""How long connecting may take before the attempt fails (retryably)."""

# ``:name`` placeholders (not ``::type`` casts) become psycopg's ``%(name)s``.
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def to_psycopg(sql: str) -> str:
    """Report SQL with ``:name`` placeholders in psycopg's ``%(name)s`` style."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


@contextlib.contextmanager
def _translated(what: str) -> Iterator[None]:
    try:
        yield
    except psycopg.OperationalError as err:  # unreachable, shutting down: may recover
        raise ApplicationError(f"{what}: {str(err).strip()}", type=DATABASE_UNAVAILABLE) from None
    except psycopg.ProgrammingError as err:  # syntax, missing table/column: the query is wrong
        raise ApplicationError(
            f"{what}: {str(err).strip()}", type=CONFIGURATION_ERROR, non_retryable=True
        ) from None
    except psycopg.Error as err:  # data and integrity errors: the records are wrong
        raise ApplicationError(
            f"{what}: {str(err).strip()}", type=INVALID_TASK_DATA, non_retryable=True
        ) from None


class PostgresSession(DbSession):
    def __init__(self, dsn: str) -> None:
        with _translated("cannot connect to PostgreSQL"):
            # Autocommit: every statement group below opens its own explicit transaction.
            self._conn = psycopg.connect(
                dsn, connect_timeout=CONNECT_TIMEOUT_SECONDS, autocommit=True
            )
            # Timestamps come back in UTC whatever the server's default zone is.
            self._conn.execute("SET TIME ZONE 'UTC'")

    def query(self, sql: str, params: dict[str, Any], max_rows: int) -> QueryResult:
        with _translated("report query failed"), self._conn.transaction():
            cursor = self._conn.execute(to_psycopg(sql), params)
            columns = [d.name for d in cursor.description or ()]
            rows = cursor.fetchmany(max_rows + 1)
        return QueryResult(columns, [tuple(r) for r in rows[:max_rows]], len(rows) > max_rows)

    def table_columns(self, table: str) -> dict[str, ColumnKind] | None:
        quote_ident(table)
        with _translated(f"cannot read table {table}"), self._conn.transaction():
            rows = self._conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND table_name = %s",
                (table,),
            ).fetchall()
        kinds: dict[str, ColumnKind] = {
            name: "json" if dtype in ("json", "jsonb") else "text" for name, dtype in rows
        }
        return kinds or None

    def create_table(self, table: str, key: str, columns: dict[str, ColumnKind]) -> None:
        others = [
            f"{quote_ident(c)} {'JSONB' if kind == 'json' else 'TEXT'}"
            for c, kind in columns.items()
            if c != key
        ]
        ddl = ", ".join([f"{quote_ident(key)} TEXT PRIMARY KEY", *others])
        with _translated(f"cannot create table {table}"), self._conn.transaction():
            self._conn.execute(f"CREATE TABLE IF NOT EXISTS {quote_ident(table)} ({ddl})")

    def add_columns(self, table: str, columns: dict[str, ColumnKind]) -> None:
        with _translated(f"cannot add columns to {table}"), self._conn.transaction():
            for column, kind in columns.items():
                self._conn.execute(
                    f"ALTER TABLE {quote_ident(table)} ADD COLUMN IF NOT EXISTS "
                    f"{quote_ident(column)} {'JSONB' if kind == 'json' else 'TEXT'}"
                )

    def upsert(
        self, table: str, key: str, columns: dict[str, ColumnKind], records: list[dict[str, Any]]
    ) -> None:
        names = list(columns)
        quoted = [quote_ident(c) for c in names]
        updates = [f"{q} = EXCLUDED.{q}" for c, q in zip(names, quoted, strict=True) if c != key]
        action = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
        sql = (
            f"INSERT INTO {quote_ident(table)} ({', '.join(quoted)}) "
            f"VALUES ({', '.join('%s' for _ in names)}) ON CONFLICT ({quote_ident(key)}) {action}"
        )
        rows = [
            [
                Jsonb(r[c]) if columns[c] == "json" and r.get(c) is not None else to_text(r.get(c))
                for c in names
            ]
            for r in records
        ]
        with (
            _translated(f"cannot upsert into {table}"),
            self._conn.transaction(),
            self._conn.cursor() as cursor,
        ):
            cursor.executemany(sql, rows)

    def seed_sales(self, table: str, now: datetime) -> bool:
        name = quote_ident(table)
        with _translated(f"cannot seed demo table {table}"), self._conn.transaction():
            if self.table_columns(table) is not None:
                return False
            self._conn.execute(
                f"CREATE TABLE IF NOT EXISTS {name} (id INTEGER PRIMARY KEY, "
                "sold_at TIMESTAMPTZ NOT NULL, region TEXT NOT NULL, product TEXT NOT NULL, "
                "quantity INTEGER NOT NULL, amount NUMERIC(12, 2) NOT NULL)"
            )
            # Two reports seeding at once: the ids are fixed, so the second inserts nothing.
            with self._conn.cursor() as cursor:
                cursor.executemany(
                    f"INSERT INTO {name} VALUES (%s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (id) DO NOTHING",
                    _demo_sales(now),
                )
        return True

    def close(self) -> None:
        self._conn.close()
