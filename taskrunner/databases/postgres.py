"""PostgreSQL: VACUUM and ANALYZE over psycopg, backups with pg_dump -Fc, and task sessions.

The DSN's password never leaves the process on a command line (pg_dump gets it in
``PGPASSWORD``) and never appears in an error (``dsn.redact``).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Self

import psycopg
from psycopg.types.json import Jsonb

from taskrunner import errors
from taskrunner.databases.base import (
    BackupCheck,
    ColumnKind,
    Database,
    QueryResult,
    SizeChange,
    quote_ident,
    schema_change,
    translated,
    upsert_statement,
)
from taskrunner.databases.dsn import dsn_location, redact, split_password
from taskrunner.databases.pg_tools import ClientTools
from taskrunner.databases.sales import demo_sales

CONNECT_TIMEOUT_SECONDS = 10
"""Give up connecting after this long (the activity's retry policy tries again)."""
DDL_ATTEMPTS = 3
"""Tries of a schema change that lost a catalog race before it fails (retryably)."""
DDL_RETRY_PAUSE_SECONDS = 0.1
"""Pause before the next try of a lost schema change, times the attempts so far."""

_CATALOG_CONFLICTS = (
    psycopg.errors.UniqueViolation,
    psycopg.errors.SerializationFailure,
    psycopg.errors.DeadlockDetected,
)
"""What DDL racing another session's DDL on the same table raises."""

_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA )", re.MULTILINE)
"""A table definition line of ``pg_restore --list`` (not its TABLE DATA entry)."""

# ``:name`` placeholders (not ``::type`` casts) become psycopg's ``%(name)s``.
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def to_psycopg(sql: str) -> str:
    """Report SQL with ``:name`` placeholders in psycopg's ``%(name)s`` style."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


def _error_type(err: psycopg.Error) -> str:
    """The ``errors`` type of a driver error, for task sessions and maintenance alike."""
    if isinstance(err, psycopg.OperationalError):  # unreachable, shutting down, lock timeout
        return errors.DATABASE_UNAVAILABLE
    if isinstance(err, psycopg.ProgrammingError):  # syntax, missing table/column: wrong query
        return errors.CONFIGURATION_ERROR
    return errors.INVALID_TASK_DATA  # data and integrity errors: the records are wrong


def _schema_error_type(err: psycopg.Error) -> str:
    """Like ``_error_type``, but a catalog conflict is another session's DDL: retried.

    During a schema change a unique violation is a catalog row (pg_type, pg_class)
    another session wrote at the same moment, never a record.
    """
    return errors.DATABASE_UNAVAILABLE if isinstance(err, _CATALOG_CONFLICTS) else _error_type(err)


def _column_type(kind: ColumnKind) -> str:
    return "JSONB" if kind == "json" else "TEXT"


def _create_table_sql(table: str, key: str, columns: dict[str, ColumnKind]) -> str:
    others = [f"{quote_ident(c)} {_column_type(kind)}" for c, kind in columns.items() if c != key]
    ddl = ", ".join([f"{quote_ident(key)} TEXT PRIMARY KEY", *others])
    return f"CREATE TABLE IF NOT EXISTS {quote_ident(table)} ({ddl})"


class PostgresDatabase(Database):
    suffix = ".dump"

    def __init__(self, dsn: str, bin_dir: Path | None = None) -> None:
        self.dsn = dsn
        self._session: psycopg.Connection | None = None
        self._working: psycopg.Connection | None = None
        self._tools = ClientTools(bin_dir, self._scrub)
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        return dsn_location(self.dsn)

    def _scrub(self, text: str) -> str:
        return redact(text, self.dsn)

    def _translated(self, what: str) -> contextlib.AbstractContextManager[None]:
        # libpq quotes a malformed DSN, password included, in its errors.
        return translated(what, psycopg.Error, _error_type, scrub=self._scrub)

    def _open(self) -> psycopg.Connection:
        # Autocommit: VACUUM cannot run inside a transaction block, and a task
        # session's statement groups each open their own explicit transaction.
        return psycopg.connect(self.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)

    # -- maintenance ---------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self) -> Iterator[psycopg.Connection]:
        conn = self._open()
        with self._lock:
            self._working = conn
        try:
            yield conn
        finally:
            with self._lock:
                self._working = None
            conn.close()

    def vacuum(self) -> SizeChange:
        with self._translated(f"cannot vacuum {self.location}"), self._connect() as conn:
            size = "SELECT pg_database_size(current_database())"
            before = _scalar(conn, size)
            conn.execute("VACUUM")
            return SizeChange(before, _scalar(conn, size))

    def analyze(self) -> int:
        with self._translated(f"cannot analyze {self.location}"), self._connect() as conn:
            conn.execute("ANALYZE")
            return _scalar(conn, "SELECT count(*) FROM pg_stat_user_tables")

    def backup(self, dest: Path) -> BackupCheck:
        with self._translated(f"cannot back up {self.location}"):
            conninfo, password = split_password(self.dsn)
        pg_dump, pg_restore = self._tools.find("pg_dump"), self._tools.find("pg_restore")
        # The command line (world-readable in ps) gets the DSN without its password;
        # the password goes in the child's environment, readable only by its user.
        env = {**os.environ, "PGPASSWORD": password} if password is not None else None
        self._tools.run(
            [pg_dump, "--format=custom", "--no-password", f"--file={dest}", f"--dbname={conninfo}"],
            env=env,
        )
        listing = self._tools.run([pg_restore, "--list", str(dest)])
        entries = [line for line in listing.splitlines() if line and not line.startswith(";")]
        tables = len(_TOC_TABLE.findall(listing))
        return BackupCheck(tables, f"pg_restore --list: {len(entries)} entries")

    def interrupt(self) -> None:
        self._tools.kill()
        with self._lock:
            if self._working is not None:
                with contextlib.suppress(psycopg.Error):
                    self._working.cancel_safe()

    # -- task session --------------------------------------------------------------

    def connect(self) -> Self:
        with self._translated("cannot connect to PostgreSQL"):
            self._session = self._open()
            # Timestamps come back in UTC whatever the server's default zone is.
            self._session.execute("SET TIME ZONE 'UTC'")
        return self

    @property
    def _conn(self) -> psycopg.Connection:
        if self._session is None:
            raise RuntimeError(f"no task session on {self.location}: call connect() first")
        return self._session

    def query(self, sql: str, params: dict[str, Any], max_rows: int) -> QueryResult:
        with self._translated("report query failed"), self._conn.transaction():
            cursor = self._conn.execute(to_psycopg(sql), params)
            columns = [d.name for d in cursor.description or ()]
            rows = cursor.fetchmany(max_rows + 1)
        return QueryResult(columns, [tuple(r) for r in rows[:max_rows]], len(rows) > max_rows)

    def table_columns(self, table: str) -> dict[str, ColumnKind] | None:
        with self._translated(f"cannot read table {table}"), self._conn.transaction():
            return self._columns(table)

    def _columns(self, table: str) -> dict[str, ColumnKind] | None:
        quote_ident(table)
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
        with self._translated(f"cannot create table {table}"), self._conn.transaction():
            self._conn.execute(_create_table_sql(table, key, columns))

    def ensure_table(
        self, table: str, key: str, columns: dict[str, ColumnKind]
    ) -> dict[str, ColumnKind]:
        what = f"cannot prepare table {table}"
        with translated(what, psycopg.Error, _schema_error_type, scrub=self._scrub):
            attempt = 1
            while True:
                try:
                    return self._ensure_table_once(table, key, columns)
                except _CATALOG_CONFLICTS:
                    # Only a creator outside the lock gets here (another program, a
                    # manual CREATE TABLE): the next attempt sees its committed table.
                    if attempt >= DDL_ATTEMPTS:
                        raise
                    time.sleep(DDL_RETRY_PAUSE_SECONDS * attempt)
                    attempt += 1

    def _ensure_table_once(
        self, table: str, key: str, columns: dict[str, ColumnKind]
    ) -> dict[str, ColumnKind]:
        name = quote_ident(table)
        with self._conn.transaction():
            # Concurrent CREATE TABLEs of one name collide in the catalog (a unique
            # violation on pg_type that IF NOT EXISTS does not prevent), and a sync
            # that saw no table would skip the columns of the one that created it.
            # So syncs of one table take turns, each reading the columns in its turn.
            self._conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.' || %s))",
                (table,),
            )
            existing = self._columns(table)
            if existing is None:
                self._conn.execute(_create_table_sql(table, key, columns))
                existing = self._columns(table) or {}
            missing, kinds = schema_change(table, key, columns, existing)
            for column, kind in missing.items():
                self._conn.execute(
                    f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS "
                    f"{quote_ident(column)} {_column_type(kind)}"
                )
        return kinds

    def upsert(
        self, table: str, key: str, columns: dict[str, ColumnKind], records: list[dict[str, Any]]
    ) -> None:
        sql, rows = upsert_statement(table, key, columns, records, "%s", Jsonb)
        with (
            self._translated(f"cannot upsert into {table}"),
            self._conn.transaction(),
            self._conn.cursor() as cursor,
        ):
            cursor.executemany(sql, rows)

    def seed_sales(self, table: str, now: datetime) -> bool:
        name = quote_ident(table)
        with self._translated(f"cannot seed demo table {table}"), self._conn.transaction():
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
                    demo_sales(now),
                )
        return True

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _scalar(conn: psycopg.Connection, query: str) -> int:
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])
