"""The maintenance engines on real databases: a SQLite file and the machine's PostgreSQL."""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from temporalio.exceptions import ApplicationError

from taskrunner.databases import (
    PostgresEngine,
    SqliteEngine,
)
from tests.helpers import assert_eventually
from tests.helpers.databases import POSTGRES_DSN, bloated_sqlite, postgres_table, row_counts


def test_sqlite_vacuum_frees_the_space_left_by_deletes(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    bloated_sqlite(db)
    on_disk = db.stat().st_size
    change = SqliteEngine(db).vacuum()
    assert change.before == on_disk
    assert change.after == db.stat().st_size
    assert change.before - change.after > 1_000_000  # ~900 deleted rows of 2 kB


def test_sqlite_analyze_writes_statistics(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    bloated_sqlite(db)
    assert SqliteEngine(db).analyze() == 2
    with sqlite3.connect(db) as conn:
        stats = {row[0] for row in conn.execute("SELECT tbl FROM sqlite_stat1")}
    assert stats == {"items", "notes"}


def test_sqlite_backup_is_a_sound_copy_with_the_same_rows(tmp_path: Path) -> None:
    db = tmp_path / "app.db"
    counts = bloated_sqlite(db)
    copy = tmp_path / "copy.db"
    check = SqliteEngine(db).backup(copy)
    assert check.tables == 2
    assert check.verification == "integrity_check ok"
    assert row_counts(copy) == counts == row_counts(db)


def test_sqlite_missing_database_is_a_configuration_error_and_is_not_created(
    tmp_path: Path,
) -> None:
    db = tmp_path / "nowhere.db"
    with pytest.raises(ApplicationError) as caught:
        SqliteEngine(db).vacuum()
    assert caught.value.type == "ConfigurationError"
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
        tables = PostgresEngine(POSTGRES_DSN).analyze()
        assert tables >= 1

        async def analysed() -> None:
            after = _last_analyze(table)
            assert after is not None and (before is None or after > before)

        await assert_eventually(analysed)


def test_postgres_vacuum_measures_the_database_size() -> None:
    with postgres_table():
        change = PostgresEngine(POSTGRES_DSN).vacuum()
    assert change.before > 0 and change.after > 0


def test_postgres_backup_is_a_custom_dump_holding_the_table(tmp_path: Path) -> None:
    dump = tmp_path / "test.dump"
    with postgres_table() as table:
        check = PostgresEngine(POSTGRES_DSN).backup(dump)
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
        PostgresEngine(POSTGRES_DSN).backup(tmp_path / "x.dump")
    assert caught.value.non_retryable
    assert caught.value.message.startswith("pg_dump not found in the PATH; install")
    assert not (tmp_path / "x.dump").exists()


def test_postgres_location_never_shows_the_password() -> None:
    engine = PostgresEngine("postgresql://admin:s3cret@db.example:6543/prod")
    assert engine.location == "db.example:6543/prod"
