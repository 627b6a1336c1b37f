"""Real test databases: a SQLite file bloated by deletes, a unique PostgreSQL table, locks."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg


def postgres_dsn(database: str, password: str | None = None) -> str:
    """A DSN of the machine's PostgreSQL; a password is ignored there (trust auth)."""
    secret = f":{password}" if password else ""
    return f"postgresql://postgres{secret}@127.0.0.1:5432/{database}"


POSTGRES_DSN = postgres_dsn("test")
"""The machine's PostgreSQL (trust auth); tests share the database, so tables are unique."""
POSTGRES_IMPATIENT_DSN = f"{POSTGRES_DSN}?options=-c%20lock_timeout%3D200"
"""The same database, but a statement gives up after waiting 200 ms for a lock."""


def bloated_sqlite(path: Path, rows: int = 1000, kept: int = 100) -> dict[str, int]:
    """Two tables (one indexed); most rows deleted so the file holds free pages.

    Returns the row count per table after the deletes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, payload BLOB)")
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.execute("CREATE INDEX notes_body ON notes (body)")
        conn.executemany("INSERT INTO items (payload) VALUES (?)", [(b"x" * 2000,)] * rows)
        conn.executemany("INSERT INTO notes (body) VALUES (?)", [(f"note {i}",) for i in range(50)])
    with conn:
        conn.execute("DELETE FROM items WHERE id > ?", (kept,))
    conn.close()
    return {"items": kept, "notes": 50}


def row_counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        conn.close()


@contextmanager
def postgres_table(rows: int = 500) -> Iterator[str]:
    """A fresh table with ``rows`` rows in the shared test database, dropped afterwards."""
    name = f"maint_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {name} (id serial PRIMARY KEY, body text)")
        conn.execute(
            f"INSERT INTO {name} (body) SELECT 'row ' || g FROM generate_series(1, %s) g",
            (rows,),
        )
    try:
        yield name
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {name}")


@contextmanager
def sqlite_locked(path: Path) -> Iterator[None]:
    """Another connection holds an exclusive lock on the file: no one else reads or writes."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


@contextmanager
def postgres_locked(table: str, dsn: str = POSTGRES_DSN) -> Iterator[None]:
    """Another connection holds an ACCESS EXCLUSIVE lock on ``table``: a pg_dump or a
    VACUUM that reaches it waits until the block ends."""
    with psycopg.connect(dsn) as conn, conn.transaction():
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield


@contextmanager
def postgres_database(rows: int = 0) -> Iterator[str]:
    """A database of its own on the machine's PostgreSQL (dropped afterwards): its name.

    It holds one table, ``items``, with ``rows`` rows of random text (so a dump of it
    takes a moment and does not compress to nothing).
    """
    name = f"maint_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        with psycopg.connect(postgres_dsn(name), autocommit=True) as conn:
            conn.execute("CREATE TABLE items (id serial PRIMARY KEY, body text)")
            conn.execute(
                "INSERT INTO items (body) SELECT md5(random()::text) || md5(random()::text) "
                "FROM generate_series(1, %s)",
                (rows,),
            )
        yield name
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
