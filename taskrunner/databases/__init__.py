"""The databases the runner works on: one interface (``base``), one module per kind.

Each kind serves both maintenance (vacuum, analyze, backup) and the report and
dataSync tasks (a session opened with ``connect``). Adding a kind is one module
implementing :class:`Database` plus one branch in :func:`open_database` (and its
``kind`` in ``DatabaseTarget``).
"""

from __future__ import annotations

from taskrunner.databases.base import (
    IDENTIFIER,
    BackupCheck,
    ColumnKind,
    Database,
    QueryResult,
    SizeChange,
)
from taskrunner.databases.postgres import PostgresDatabase
from taskrunner.databases.sqlite import SqliteDatabase
from taskrunner.settings import Settings
from taskrunner.settings.resources import DatabaseTarget


def open_database(target: DatabaseTarget, settings: Settings) -> Database:
    """The database of one configured target; nothing connects until it is used."""
    if target.kind == "postgres":
        assert target.dsn is not None  # DatabaseTarget validates this
        return PostgresDatabase(target.dsn, settings.maintenance.pg_bin_dir)
    return SqliteDatabase(settings.sqlite_path(target))


__all__ = [
    "IDENTIFIER",
    "BackupCheck",
    "ColumnKind",
    "Database",
    "PostgresDatabase",
    "QueryResult",
    "SizeChange",
    "SqliteDatabase",
    "open_database",
]
