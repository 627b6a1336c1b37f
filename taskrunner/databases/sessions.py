"""The application database the report and dataSync tasks work on (SQLite or PostgreSQL)."""

from __future__ import annotations

from taskrunner.databases.session_base import (
    ColumnKind,
    DbSession,
    QueryResult,
    quote_ident,
)
from taskrunner.settings import Settings

__all__ = ["ColumnKind", "DbSession", "QueryResult", "open_session", "quote_ident"]


def open_session(settings: Settings) -> DbSession:
    """Connect to the configured database (blocking: call through ``asyncio.to_thread``)."""
    target = settings.database
    if target.kind == "postgres":
        from taskrunner.databases.postgres_session import PostgresSession

        assert target.dsn is not None  # the settings validator guarantees it
        return PostgresSession(target.dsn)
    from taskrunner.databases.sqlite_session import SqliteSession

    return SqliteSession(settings.sqlite_path(target))
