"""The databases on real engines: a SQLite file and the machine's PostgreSQL.

One object per kind serves maintenance and task sessions, with one error translation.
"""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from temporalio.exceptions import ApplicationError

from taskrunner.databases import (
    ColumnKind,
    Database,
    PostgresDatabase,
    SqliteDatabase,
)
from taskrunner.databases.base import upsert_statement
from taskrunner.errors import CONFIGURATION_ERROR, DATABASE_UNAVAILABLE, INVALID_TASK_DATA
from tests.helpers import assert_eventually, free_port
from tests.helpers.databases import (
    POSTGRES_DSN,
    POSTGRES_IMPATIENT_DSN,
    bloated_sqlite,
    postgres_locked,
    postgres_table,
    row_counts,
    sqlite_locked,
)


def test_sqlite_vacuum_frees_the_space_left_by_deletes(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    bloated_sqlite(db)
    on_disk = db.stat().st_size
    change = SqliteDatabase(db).vacuum()
    assert change.before == on_disk
    assert change.after == db.stat().st_size
    assert change.before - change.after > 1_000_000  # ~900 deleted rows of 2 kB


def test_sqlite_analyze_writes_statistics(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    bloated_sqlite(db)
    assert SqliteDatabase(db).analyze() == 2
    with sqlite3.connect(db) as conn:
        stats = {row[0] for row in conn.execute("SELECT tbl FROM sqlite_stat1")}
    assert stats == {"items", "notes"}


def test_sqlite_backup_is_a_sound_copy_with_the_same_rows(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    counts = bloated_sqlite(db)
    copy = tmp_path / "copy.db"
    check = SqliteDatabase(db).backup(copy)
    assert check.tables == 2
    assert check.verification == "integrity_check ok"
    assert row_counts(copy) == counts == row_counts(db)


def test_sqlite_missing_database_is_a_configuration_error_and_is_not_created(
    tmp_path: Path,
) -> None:
    db = tmp_path / "nowhere.db"
    with pytest.raises(ApplicationError) as caught:
        SqliteDatabase(db).vacuum()
    assert caught.value.type == CONFIGURATION_ERROR
    assert caught.value.non_retryable
    assert str(db) in caught.value.message
    assert not db.exists()


def _last_analyze(table: str) -> datetime | None:
    with psycopg.connect(POSTGRES_DSN) as conn:
        row = conn.execute(
            "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = %s", (table,)
        ).fetchone()
    assert row is not None
    return row[0]


async def test_postgres_analyze_updates_last_analyze() -> None:
    with postgres_table() as table:
        before = _last_analyze(table)
        tables = PostgresDatabase(POSTGRES_DSN).analyze()
        assert tables >= 1

        async def analysed() -> None:
            after = _last_analyze(table)
            assert after is not None and (before is None or after > before)

        await assert_eventually(analysed)


def test_postgres_vacuum_measures_the_database_size() -> None:
    with postgres_table():
        change = PostgresDatabase(POSTGRES_DSN).vacuum()
    assert change.before > 0 and change.after > 0


def test_postgres_backup_is_a_custom_dump_holding_the_table(tmp_path: Path) -> None:
    dump = tmp_path / "test.dump"
    with postgres_table() as table:
        check = PostgresDatabase(POSTGRES_DSN).backup(dump)
    assert check.tables >= 1
    assert check.verification.startswith("pg_restore --list: ")
    assert dump.read_bytes()[:5] == b"PGDMP"  # the custom format's magic
    listing = subprocess.run(
        ["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True
    ).stdout
    assert f"TABLE public {table} " in listing
    assert f"TABLE DATA public {table} " in listing


def test_postgres_backup_without_pg_dump_is_a_clear_non_retryable_error(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ApplicationError) as caught:
        PostgresDatabase(POSTGRES_DSN).backup(tmp_path / "x.dump")
    assert caught.value.non_retryable
    assert caught.value.message.startswith("pg_dump not found in the PATH; install")
    assert not (tmp_path / "x.dump").exists()


def test_postgres_location_never_shows_the_password() -> None:
    engine = PostgresDatabase("postgresql://admin:s3cret@db.example:6543/prod")
    assert engine.location == "db.example:6543/prod"


# -- one database, both roles -------------------------------------------------------


def test_a_sqlite_task_session_creates_the_file_and_its_folder(tmp_path: Path) -> None:
    db = tmp_path / "new" / "app.db"
    with SqliteDatabase(db).connect() as session:
        assert session.table_columns("sales") is None
    assert db.is_file()


def test_one_sqlite_database_serves_a_task_session_then_maintenance(tmp_path: Path) -> None:
    database = SqliteDatabase(tmp_path / "app.db")
    with database.connect() as session:
        assert session.seed_sales("sales", datetime.now(UTC))
        assert not session.seed_sales("sales", datetime.now(UTC))
    assert database.analyze() == 1
    check = database.backup(tmp_path / "copy.db")
    assert check.tables == 1
    assert row_counts(tmp_path / "copy.db") == {"sales": 60}


def test_task_calls_before_connect_say_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"call connect\(\) first"):
        SqliteDatabase(tmp_path / "app.db").query("SELECT 1", {}, 10)
    assert not (tmp_path / "app.db").exists()


def test_upsert_statement_is_one_for_both_kinds() -> None:
    sql, rows = upsert_statement(
        "t", "id", {"id": "text", "v": "json"}, [{"id": 1, "v": [1]}, {"id": "2"}], "?", repr
    )
    assert sql == (
        'INSERT INTO "t" ("id", "v") VALUES (?, ?) ON CONFLICT ("id") '
        'DO UPDATE SET "v" = excluded."v"'
    )
    assert rows == [["1", "[1]"], ["2", None]]
    sql, _ = upsert_statement("t", "id", {"id": "text"}, [], "%s", repr)
    assert sql.endswith('VALUES (%s) ON CONFLICT ("id") DO NOTHING')


@contextlib.contextmanager
def opened(kind: str, tmp_path: Path) -> Iterator[Database]:
    """A task session on a fresh SQLite file or the machine's PostgreSQL."""
    if kind == "sqlite":
        with SqliteDatabase(tmp_path / "app.db").connect() as session:
            yield session
    else:
        with PostgresDatabase(POSTGRES_DSN).connect() as session:
            yield session


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_upsert_inserts_then_updates_by_key_on_both_kinds(kind: str, tmp_path: Path) -> None:
    table = f"sync_{uuid.uuid4().hex[:12]}"
    columns: dict[str, ColumnKind] = {"id": "text", "name": "text", "tags": "json"}
    try:
        with opened(kind, tmp_path) as session:
            session.create_table(table, "id", columns)
            session.upsert(table, "id", columns, [{"id": "1", "name": "a", "tags": ["x"]}])
            session.upsert(table, "id", columns, [{"id": "1", "name": "b"}, {"id": "2"}])
            result = session.query(f"SELECT id, name, tags FROM {table} ORDER BY id", {}, 10)
    finally:
        if kind == "postgres":
            with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
                conn.execute(f"DROP TABLE IF EXISTS {table}")
    assert result.rows == [("1", "b", None), ("2", None, None)]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_bad_query_is_a_non_retryable_configuration_error(kind: str, tmp_path: Path) -> None:
    with opened(kind, tmp_path) as session, pytest.raises(ApplicationError) as caught:
        session.query("SELECT * FROM no_such_table", {}, 10)
    assert caught.value.type == CONFIGURATION_ERROR and caught.value.non_retryable
    assert caught.value.message.startswith("report query failed: ")


def test_a_locked_sqlite_database_is_retryable_for_tasks(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    bloated_sqlite(db)
    with (
        SqliteDatabase(db, busy_timeout=0.1).connect() as session,
        sqlite_locked(db),
        pytest.raises(ApplicationError) as caught,
    ):
        session.table_columns("items")
    assert caught.value.type == DATABASE_UNAVAILABLE and not caught.value.non_retryable
    assert "database is locked" in caught.value.message


def test_sqlite_maintenance_errors_go_through_the_same_translation(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    bloated_sqlite(db)
    with pytest.raises(ApplicationError) as caught:
        SqliteDatabase(db).backup(tmp_path / "missing" / "copy.db")
    assert caught.value.type == DATABASE_UNAVAILABLE and not caught.value.non_retryable
    assert caught.value.message.startswith(f"cannot back up {db} to ")


def test_sqlite_bad_records_are_non_retryable_invalid_task_data(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, n TEXT CHECK (n != 'bad'))")
    columns: dict[str, ColumnKind] = {"id": "text", "n": "text"}
    with SqliteDatabase(db).connect() as session, pytest.raises(ApplicationError) as caught:
        session.upsert("t", "id", columns, [{"id": "1", "n": "bad"}])
    assert caught.value.type == INVALID_TASK_DATA and caught.value.non_retryable


def test_a_locked_postgres_table_is_retryable_for_tasks() -> None:
    with (
        postgres_table(rows=1) as table,
        PostgresDatabase(POSTGRES_IMPATIENT_DSN).connect() as session,
        postgres_locked(table),
        pytest.raises(ApplicationError) as caught,
    ):
        session.query(f"SELECT count(*) FROM {table}", {}, 1)
    assert caught.value.type == DATABASE_UNAVAILABLE and not caught.value.non_retryable
    assert "lock timeout" in caught.value.message


def test_unreachable_postgres_is_retryable_for_tasks_and_maintenance() -> None:
    database = PostgresDatabase(f"postgresql://postgres@127.0.0.1:{free_port()}/test")
    for role in (database.connect, database.vacuum, database.analyze):
        with pytest.raises(ApplicationError) as caught:
            role()
        assert caught.value.type == DATABASE_UNAVAILABLE and not caught.value.non_retryable
