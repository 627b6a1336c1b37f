"""Durable alert-storm state: when each notification last went out, which sources alert.

A small SQLite file in the data directory, so a worker restart neither re-pages
an alert still in its cooldown nor forgets that a source needs a "resolved"
message. Every call opens its own short connection: the activity calls these
from worker threads, and SQLite serialises writers with its file lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from taskrunner.notifications.models import Priority

BUSY_TIMEOUT_SECONDS = 10.0
"""How long a writer waits for another one's lock before failing."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notification_sent (
    key TEXT PRIMARY KEY, source TEXT NOT NULL, sent_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS active_alert (
    source TEXT PRIMARY KEY, priority TEXT NOT NULL, since REAL NOT NULL, message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notification_counter (
    name TEXT PRIMARY KEY, value INTEGER NOT NULL
);
"""

SUPPRESSED = "suppressed"
"""Counter: notifications not sent because an identical one went out within the cooldown."""
UNDELIVERED = "undelivered"
"""Counter: notifications no channel could deliver after every attempt."""


def channel_failed(channel: str) -> str:
    """Counter name: final failures of one channel."""
    return f"failed:{channel}"


class AlertState:
    """Cooldown claims, active alerts and delivery counters in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._ready = False

    def _create(self) -> None:
        # On first use, not in __init__: building the worker touches no disk, and a
        # missing or unwritable directory surfaces as an error the activity handles.
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise sqlite3.OperationalError(f"cannot create {self.path.parent}: {err}") from err
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            db.executescript(_SCHEMA)
        finally:
            db.close()
        self._ready = True

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self._create()
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            # IMMEDIATE takes the write lock up front: check-then-claim is atomic.
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def claim(self, key: str, source: str, now: float, cooldown: float) -> bool:
        """Reserve sending ``key`` now; False (and counted) if it went out within the cooldown."""
        with self._tx() as db:
            row = db.execute("SELECT sent_at FROM notification_sent WHERE key = ?", (key,))
            found = row.fetchone()
            if found is not None and now - found[0] < cooldown:
                _bump(db, SUPPRESSED)
                return False
            db.execute(
                "INSERT INTO notification_sent (key, source, sent_at) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET sent_at = excluded.sent_at",
                (key, source, now),
            )
            return True

    def release(self, key: str) -> None:
        """Undo a claim whose notification no channel delivered, so the next one is sent."""
        with self._tx() as db:
            db.execute("DELETE FROM notification_sent WHERE key = ?", (key,))

    def mark_alerting(self, source: str, priority: Priority, message: str, now: float) -> None:
        """Remember that ``source`` raised an alert (keeping the highest priority seen)."""
        with self._tx() as db:
            found = db.execute(
                "SELECT priority FROM active_alert WHERE source = ?", (source,)
            ).fetchone()
            if found is not None and Priority(found[0]).rank >= priority.rank:
                return
            db.execute(
                "INSERT INTO active_alert (source, priority, since, message) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(source) DO UPDATE SET priority = excluded.priority, "
                "message = excluded.message",
                (source, priority.value, now, message),
            )

    def active_alert(self, source: str) -> Priority | None:
        """The priority of ``source``'s unresolved alert, or None when it has none."""
        with self._tx() as db:
            found = db.execute(
                "SELECT priority FROM active_alert WHERE source = ?", (source,)
            ).fetchone()
        return Priority(found[0]) if found is not None else None

    def active_alerts(self) -> list[tuple[str, Priority, float, str]]:
        """Every unresolved alert: (source, priority, since, message), oldest first."""
        with self._tx() as db:
            rows = db.execute(
                "SELECT source, priority, since, message FROM active_alert ORDER BY since"
            ).fetchall()
        return [(source, Priority(p), since, message) for source, p, since, message in rows]

    def resolve(self, source: str) -> None:
        """Forget ``source``'s alert and its cooldowns: its next alert is news again."""
        with self._tx() as db:
            db.execute("DELETE FROM active_alert WHERE source = ?", (source,))
            db.execute("DELETE FROM notification_sent WHERE source = ?", (source,))

    def count(self, name: str) -> None:
        """Add one to counter ``name``."""
        with self._tx() as db:
            _bump(db, name)

    def counters(self) -> dict[str, int]:
        """Every counter and its value."""
        with self._tx() as db:
            rows = db.execute("SELECT name, value FROM notification_counter").fetchall()
        return {name: value for name, value in rows}


def _bump(db: sqlite3.Connection, name: str) -> None:
    db.execute(
        "INSERT INTO notification_counter (name, value) VALUES (?, 1) "
        "ON CONFLICT(name) DO UPDATE SET value = value + 1",
        (name,),
    )
