"""Database engines for maintenance: one interface (``base``), one module per engine.

Adding an engine is one module implementing :class:`DatabaseEngine` plus one
branch in :func:`open_engine` (and its ``kind`` in ``DatabaseTarget``).
"""

from __future__ import annotations

from activities.db.base import DatabaseEngine
from activities.db.postgres import PostgresEngine
from activities.db.sqlite import SqliteEngine
from taskrunner.resource_settings import DatabaseTarget
from taskrunner.settings import Settings


def open_engine(target: DatabaseTarget, settings: Settings) -> DatabaseEngine:
    """The engine for one configured target."""
    if target.kind == "postgres":
        assert target.dsn is not None  # DatabaseTarget validates this
        return PostgresEngine(target.dsn, settings.maintenance.pg_bin_dir)
    return SqliteEngine(settings.sqlite_path(target))


__all__ = ["DatabaseEngine", "PostgresEngine", "SqliteEngine", "open_engine"]
