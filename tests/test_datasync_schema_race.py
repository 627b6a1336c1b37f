"""First dataSyncs into one new table at once: the schema step must not race.

Each sync runs on its own thread with its own connection, brings a column of
its own, prepares the table (``ensure_table``) and upserts its row, all released
together by a barrier, the way parallel workers start on a fresh database.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import psycopg
import pytest
from temporalio.exceptions import ApplicationError

from taskrunner.databases import ColumnKind, Database, PostgresDatabase, SqliteDatabase
from taskrunner.databases import postgres as postgres_module
from taskrunner.errors import DATABASE_UNAVAILABLE, INVALID_TASK_DATA
from tests.helpers.databases import POSTGRES_DSN

SYNCS = 40
"""Concurrent first syncs per race (the incident: 8 of 40 failed on SQLite, 39 on PostgreSQL)."""
ROUNDS = 5
"""Races per test, one after another, each into a fresh table: one alone may not interleave."""
BARRIER_TIMEOUT_SECONDS = 60.0
"""How long a sync waits for the others to be ready before the race is called off."""


def _column(index: int) -> tuple[str, ColumnKind]:
    # Every other sync brings a JSON column, so both kinds race.
    return f"c{index}", "json" if index % 2 else "text"


def _race(database: Callable[[], Database], tables: list[str]) -> list[str]:
    """For each table in turn, SYNCS first syncs into it at once; the errors they met."""
    barrier = threading.Barrier(SYNCS, timeout=BARRIER_TIMEOUT_SECONDS)

    def first_syncs(index: int) -> list[str]:
        column, kind = _column(index)
        record = {"id": str(index), column: {"n": index} if kind == "json" else f"v{index}"}
        failures: list[str] = []
        try:
            session = database().connect()
        except BaseException:
            barrier.abort()  # the others stop waiting for this one
            raise
        with session:
            for table in tables:
                barrier.wait()
                try:
                    kinds = session.ensure_table(table, "id", {"id": "text", column: kind})
                    session.upsert(table, "id", kinds, [record])
                except Exception as err:  # recorded, so the next race still has every sync
                    failures.append(f"{table}: {err!r}")
        return failures

    with ThreadPoolExecutor(SYNCS) as pool:
        return [failure for failures in pool.map(first_syncs, range(SYNCS)) for failure in failures]


def _own_values(cursor: Any) -> dict[str, Any]:
    """Each row's value in the column its sync brought, by key."""
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return {row["id"]: row[f"c{row['id']}"] for row in rows}


def _expected(json: Callable[[int], Any]) -> dict[str, Any]:
    return {str(i): json(i) if _column(i)[1] == "json" else f"v{i}" for i in range(SYNCS)}


@contextlib.contextmanager
def table_names(count: int = 1) -> Iterator[list[str]]:
    """Table names unused in the shared PostgreSQL database, dropped from it afterwards."""
    tables = [f"race_{uuid.uuid4().hex[:12]}" for _ in range(count)]
    try:
        yield tables
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            for table in tables:
                conn.execute(f"DROP TABLE IF EXISTS {table}")


def _sqlite_table(path: Path, table: str) -> tuple[set[str], dict[str, Any]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        described = conn.execute("SELECT name FROM pragma_table_info(?)", (table,))
        return {row[0] for row in described}, _own_values(conn.execute(f"SELECT * FROM {table}"))


def test_concurrent_first_syncs_into_a_new_sqlite_table_all_succeed(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    tables = [f"items_{round_}" for round_ in range(ROUNDS)]
    failures = _race(lambda: SqliteDatabase(path), tables)

    assert failures == []
    columns = {"id", *(_column(i)[0] for i in range(SYNCS))}
    rows = _expected(lambda i: f'{{"n": {i}}}')  # SQLite keeps JSON as text
    assert [_sqlite_table(path, table) for table in tables] == [(columns, rows)] * ROUNDS


def _postgres_table(table: str) -> tuple[dict[str, str], dict[str, Any]]:
    with psycopg.connect(POSTGRES_DSN) as conn:
        described = conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        ).fetchall()
        return dict(described), _own_values(conn.execute(f"SELECT * FROM {table}"))


def test_concurrent_first_syncs_into_a_new_postgres_table_all_succeed() -> None:
    with table_names(ROUNDS) as tables:
        failures = _race(lambda: PostgresDatabase(POSTGRES_DSN), tables)

        assert failures == []
        columns = {"id": "text"} | {
            name: "jsonb" if kind == "json" else "text" for name, kind in map(_column, range(SYNCS))
        }
        rows = _expected(lambda i: {"n": i})
        assert [_postgres_table(table) for table in tables] == [(columns, rows)] * ROUNDS


@contextlib.contextmanager
def _session(kind: str, tmp_path: Path) -> Iterator[Database]:
    database: Database = (
        SqliteDatabase(tmp_path / "app.db") if kind == "sqlite" else PostgresDatabase(POSTGRES_DSN)
    )
    with database.connect() as session:
        yield session


def _run_sql(kind: str, tmp_path: Path, sql: str) -> None:
    if kind == "sqlite":
        with contextlib.closing(sqlite3.connect(tmp_path / "app.db")) as lite, lite:
            lite.execute(sql)
    else:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(sql)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_an_existing_table_without_the_key_column_is_one_non_retryable_line(
    kind: str, tmp_path: Path
) -> None:
    with table_names() as [table]:
        _run_sql(kind, tmp_path, f"CREATE TABLE {table} (name TEXT)")
        with _session(kind, tmp_path) as session, pytest.raises(ApplicationError) as caught:
            session.ensure_table(table, "id", {"id": "text", "name": "text"})
    assert caught.value.type == INVALID_TASK_DATA and caught.value.non_retryable
    assert caught.value.message == f"table {table} has no column 'id' to upsert by"


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_an_existing_column_keeps_its_kind_and_missing_ones_are_added(
    kind: str, tmp_path: Path
) -> None:
    with table_names() as [table]:
        _run_sql(kind, tmp_path, f"CREATE TABLE {table} (id TEXT PRIMARY KEY, tags TEXT)")
        with _session(kind, tmp_path) as session:
            kinds = session.ensure_table(table, "id", {"id": "text", "tags": "json", "n": "text"})
            again = session.ensure_table(table, "id", {"id": "text", "n": "json"})
            columns = session.table_columns(table)
    assert kinds == {"id": "text", "tags": "text", "n": "text"}
    assert again == {"id": "text", "n": "text"}
    assert columns == {"id": "text", "tags": "text", "n": "text"}


@contextlib.contextmanager
def _created_elsewhere_meanwhile(table: str) -> Iterator[None]:
    """Another client (not taking the runner's lock) creates ``table`` while the block runs.

    Its CREATE TABLE stays uncommitted until the block's own CREATE TABLE waits on it
    in the catalog, then commits: the waiting one fails with a unique violation.
    """
    with psycopg.connect(POSTGRES_DSN) as other:
        other.execute(f"CREATE TABLE {table} (id TEXT PRIMARY KEY)")
        yield
        deadline = time.monotonic() + BARRIER_TIMEOUT_SECONDS
        while not _waiting_on_a_lock(table):
            assert time.monotonic() < deadline, "the sync never waited on the other creator"
            time.sleep(0.05)
        other.commit()


def _waiting_on_a_lock(table: str) -> bool:
    with psycopg.connect(POSTGRES_DSN) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND pid <> pg_backend_pid() AND query LIKE %s",
            (f"CREATE TABLE%{table}%",),
        ).fetchone()
    return row is not None and row[0] > 0


def _ensure_in_a_thread(table: str) -> Future[dict[str, ColumnKind]]:
    """``ensure_table`` on its own connection and thread, racing an outside creator."""

    def ensure() -> dict[str, ColumnKind]:
        with PostgresDatabase(POSTGRES_DSN).connect() as session:
            return session.ensure_table(table, "id", {"id": "text", "name": "text"})

    with ThreadPoolExecutor(1) as pool, _created_elsewhere_meanwhile(table):
        return pool.submit(ensure)


def test_a_catalog_conflict_with_an_outside_creator_is_tried_again() -> None:
    with table_names() as [table]:
        kinds = _ensure_in_a_thread(table).result()
        with PostgresDatabase(POSTGRES_DSN).connect() as session:
            columns = session.table_columns(table)
    assert kinds == columns == {"id": "text", "name": "text"}


def test_a_catalog_conflict_left_after_the_retries_is_retryable(monkeypatch: Any) -> None:
    monkeypatch.setattr(postgres_module, "DDL_ATTEMPTS", 1)
    with table_names() as [table]:
        error = _ensure_in_a_thread(table).exception()
    assert isinstance(error, ApplicationError), repr(error)
    assert error.type == DATABASE_UNAVAILABLE and not error.non_retryable
    assert error.message.startswith(f"cannot prepare table {table}: duplicate key value")
    assert "\n" not in error.message
