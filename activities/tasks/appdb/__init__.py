"""The application database the report and dataSync tasks work on (SQLite or PostgreSQL)."""

from __future__ import annotations

from activities.tasks.appdb.base import ColumnKind, DbSession, QueryResult, quote_ident
from taskrunner.settings import Settings

__all__ = ["ColumnKind", "DbSession", "QueryResult", "open_session", "quote_ident"]


def open_session(settings: Settings) -> DbSession:
    """Connect to the configured database (blocking: call through ``asyncio.to_thread``)."""
    target = settings.database
    if target.kind == "postgres":
        from activities.tasks.appdb.postgres import PostgresSession

        assert target.dsn is not None  # the settings validator guarantees it
        return PostgresSession(target.dsn)
    from activities.tasks.appdb.sqlite import SqliteSession

    return SqliteSession(settings.sqlite_path(target))
