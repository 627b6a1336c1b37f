"""SQLite, the embedded default: VACUUM, ANALYZE, online backups, and task sessions."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from temporalio.exceptions import ApplicationError

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
from taskrunner.databases.sales import demo_sales
from taskrunner.errors import (
    CONFIGURATION_ERROR,
    DATABASE_UNAVAILABLE,
    INVALID_TASK_DATA,
    configuration_error,
)

BUSY_TIMEOUT_SECONDS = 30.0
"""How long a task statement waits for another writer's lock before failing (retryably)."""
MAINTENANCE_BUSY_TIMEOUT_SECONDS = 5.0
"""How long VACUUM, ANALYZE and backups wait for another writer's lock (sqlite3's default)."""
SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
"""Timestamps are stored in SQLite's own format, in UTC, so they compare as text."""
BACKUP_PAGES_PER_STEP = 4096
"""Pages copied per backup step; between steps other connections may write."""


def _error_type(err: sqlite3.Error) -> str:
    """The ``errors`` type of a driver error, for task sessions and maintenance alike.

    Locked, busy or unopenable: the database may recover. Other operational
    errors (syntax, missing table): the setup or query is wrong. The rest
    (integrity, data): the records are wrong.
    """
    if isinstance(err, sqlite3.OperationalError):
        text = str(err)
        transient = "locked" in text or "busy" in text or "unable to open" in text
        return DATABASE_UNAVAILABLE if transient else CONFIGURATION_ERROR
    return INVALID_TASK_DATA


def _translated(what: str) -> contextlib.AbstractContextManager[None]:
    return translated(what, sqlite3.Error, _error_type)


def missing_file(path: Path) -> ApplicationError:
    """The error of a SQLite file that is not there (sqlite3 would create an empty one)."""
    return configuration_error(f"SQLite database {path} does not exist")


def _param(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime(SQLITE_TIME_FORMAT)
    return value


class SqliteDatabase(Database):
    suffix = ".db"

    def __init__(self, path: Path, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        """The task session's lock wait (maintenance waits ``MAINTENANCE_BUSY_TIMEOUT_SECONDS``)."""
        self._session: sqlite3.Connection | None = None
        self._working: list[sqlite3.Connection] = []
        self._cancelled = threading.Event()

    @property
    def location(self) -> str:
        return str(self.path)

    # -- maintenance ---------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(
        self, path: Path | None = None, *, create: bool = False
    ) -> Iterator[sqlite3.Connection]:
        path = path or self.path
        if not create and not path.is_file():
            raise missing_file(path)
        mode = "rwc" if create else "rw"
        conn = sqlite3.connect(
            f"file:{path}?mode={mode}",
            uri=True,
            isolation_level=None,
            timeout=MAINTENANCE_BUSY_TIMEOUT_SECONDS,
        )
        self._working.append(conn)
        try:
            yield conn
        finally:
            self._working.remove(conn)
            conn.close()

    def _size(self) -> int:
        # In WAL mode pages live in the -wal file until a checkpoint.
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    def vacuum(self) -> SizeChange:
        with _translated(f"cannot vacuum {self.path}"), self._connect() as conn:
            before = self._size()
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return SizeChange(before, self._size())

    def analyze(self) -> int:
        with _translated(f"cannot analyze {self.path}"), self._connect() as conn:
            conn.execute("ANALYZE")
            return _count_tables(conn)

    def backup(self, dest: Path) -> BackupCheck:
        with _translated(f"cannot back up {self.path} to {dest}"):
            with self._connect() as src, self._connect(dest, create=True) as dst:
                src.backup(dst, pages=BACKUP_PAGES_PER_STEP, progress=self._check_cancelled)
            with self._connect(dest) as copy:
                rows = [r[0] for r in copy.execute("PRAGMA integrity_check")]
                if rows != ["ok"]:
                    raise RuntimeError(
                        f"backup {dest} failed integrity_check: {'; '.join(rows[:3])}"
                    )
                return BackupCheck(_count_tables(copy), "integrity_check ok")

    def _check_cancelled(self, status: int, remaining: int, total: int) -> None:
        # Raising from the progress callback aborts the backup between steps.
        if self._cancelled.is_set():
            raise InterruptedError("backup cancelled")

    def interrupt(self) -> None:
        self._cancelled.set()
        for conn in list(self._working):
            with contextlib.suppress(sqlite3.Error):
                conn.interrupt()

    # -- task session --------------------------------------------------------------

    def connect(self) -> Self:
        # Unlike maintenance, a task session creates the file (and its folder).
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _translated(f"cannot open SQLite database {self.path}"):
            # Each call may run on another to_thread worker, one at a time.
            self._session = sqlite3.connect(
                self.path, timeout=self.busy_timeout, check_same_thread=False
            )
        return self

    @property
    def _conn(self) -> sqlite3.Connection:
        if self._session is None:
            raise RuntimeError(f"no task session on {self.path}: call connect() first")
        return self._session

    def query(self, sql: str, params: dict[str, Any], max_rows: int) -> QueryResult:
        with _translated("report query failed"):
            cursor = self._conn.execute(sql, {k: _param(v) for k, v in params.items()})
            columns = [d[0] for d in cursor.description or ()]
            rows = cursor.fetchmany(max_rows + 1)
            cursor.close()
        return QueryResult(columns, [tuple(r) for r in rows[:max_rows]], len(rows) > max_rows)

    def table_columns(self, table: str) -> dict[str, ColumnKind] | None:
        with _translated(f"cannot read table {table}"):
            return self._columns(table)

    def _columns(self, table: str) -> dict[str, ColumnKind] | None:
        rows = self._conn.execute(f"PRAGMA table_info({quote_ident(table)})").fetchall()
        # SQLite has no JSON type: JSON is stored as text either way.
        return {row[1]: "text" for row in rows} or None

    def create_table(self, table: str, key: str, columns: dict[str, ColumnKind]) -> None:
        with _translated(f"cannot create table {table}"), self._conn:
            self._conn.execute(_create_table_sql(table, key, columns))

    def ensure_table(
        self, table: str, key: str, columns: dict[str, ColumnKind]
    ) -> dict[str, ColumnKind]:
        name = quote_ident(table)
        with _translated(f"cannot prepare table {table}"), self._conn:
            # The write lock is taken before the schema is read: a concurrent sync
            # waits for it (busy_timeout, then a retryable "locked") and then reads
            # this one's columns instead of creating or adding them a second time.
            self._conn.execute("BEGIN IMMEDIATE")
            existing = self._columns(table)
            if existing is None:
                self._conn.execute(_create_table_sql(table, key, columns))
                return dict(columns)
            missing, kinds = schema_change(table, key, columns, existing)
            for column in missing:
                self._conn.execute(f"ALTER TABLE {name} ADD COLUMN {quote_ident(column)} TEXT")
            return kinds

    def upsert(
        self, table: str, key: str, columns: dict[str, ColumnKind], records: list[dict[str, Any]]
    ) -> None:
        sql, rows = upsert_statement(
            table, key, columns, records, "?", lambda v: json.dumps(v, ensure_ascii=False)
        )
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
                [(r[0], _param(r[1]), *r[2:]) for r in demo_sales(now)],
            )
        return True

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _create_table_sql(table: str, key: str, columns: dict[str, ColumnKind]) -> str:
    others = [f"{quote_ident(c)} TEXT" for c in columns if c != key]
    ddl = ", ".join([f"{quote_ident(key)} TEXT PRIMARY KEY", *others])
    return f"CREATE TABLE IF NOT EXISTS {quote_ident(table)} ({ddl})"


def _count_tables(conn: sqlite3.Connection) -> int:
    row = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchone()
    return int(row[0])
