"""Database engines for maintenance: one interface (``base``), one module per engine.

Adding an engine is one module implementing :class:`DatabaseEngine` plus one
branch in :func:`open_engine` (and its ``kind`` in ``DatabaseTarget``).
"""

from __future__ import annotations

from taskrunner.databases.base import DatabaseEngine
from taskrunner.databases.postgres import PostgresEngine
from taskrunner.databases.sqlite import SqliteEngine
from taskrunner.settings import Settings
from taskrunner.settings.resources import DatabaseTarget


def open_engine(target: DatabaseTarget, settings: Settings) -> DatabaseEngine:
    """The engine for one configured target."""
    if target.kind == "postgres":
        assert target.dsn is not None  # DatabaseTarget validates this
        return PostgresEngine(target.dsn, settings.maintenance.pg_bin_dir)
    return SqliteEngine(settings.sqlite_path(target))


__all__ = ["DatabaseEngine", "PostgresEngine", "SqliteEngine", "open_engine"]
