"""Durable alert-storm state: pages of each notification identity, open alerts, counters.

A small SQLite file in the data directory, so a worker restart neither re-pages an
alert still open nor forgets that a source needs a "resolved" message, and a page
its sender never finished (the worker died mid-send) is taken over once its
reservation expires (see ``pages.py``). Every call opens its own short connection:
the activity calls these from worker threads, and SQLite serialises writers with
its file lock.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from taskrunner.notifications.models import Priority
from taskrunner.notifications.pages import Page, Request, Verdict, decide

BUSY_TIMEOUT_SECONDS = 10.0
"""How long a writer waits for another one's lock before failing."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS notification_page (
    key TEXT PRIMARY KEY, source TEXT NOT NULL, page TEXT NOT NULL, holder TEXT NOT NULL,
    priority TEXT NOT NULL, sent_at REAL NOT NULL, reserved_until REAL NOT NULL,
    confirmed INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS page_channel (
    key TEXT NOT NULL, page TEXT NOT NULL, channel TEXT NOT NULL, confirmed_at REAL NOT NULL,
    PRIMARY KEY (key, page, channel)
);
CREATE TABLE IF NOT EXISTS open_alert (
    source TEXT NOT NULL, alert TEXT NOT NULL, priority TEXT NOT NULL, since REAL NOT NULL,
    updated_at REAL NOT NULL, message TEXT NOT NULL, PRIMARY KEY (source, alert)
);
CREATE TABLE IF NOT EXISTS notification_counter (
    name TEXT PRIMARY KEY, value INTEGER NOT NULL
);
DROP TABLE IF EXISTS notification_sent;
"""
# notification_sent held the cooldowns of earlier versions (they restart once).

SUPPRESSED = "suppressed"
"""Counter: notifications not sent: an identical one's page is confirmed or in flight."""
UPDATED = "updated"
"""Counter: repeats of an open alert that updated its details instead of paging."""
UNDELIVERED = "undelivered"
"""Counter: notifications no channel could deliver after every attempt."""


def channel_failed(channel: str) -> str:
    """Counter name: final failures of one channel."""
    return f"failed:{channel}"


@dataclass(frozen=True)
class Reservation:
    """The answer to ``reserve``: what to do, the page, and its channels already confirmed."""

    verdict: Verdict
    page_id: str
    confirmed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OpenAlert:
    source: str
    alert: str
    """The alert's name; empty for a source's plain notifications at alert priority."""
    priority: Priority
    """The highest priority it paged at."""
    since: float
    updated_at: float
    message: str
    """Its latest details."""


class AlertState:
    """Pages, open alerts and delivery counters in one SQLite file."""

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
        with self._tx() as tx:
            _carry_over_active_alerts(tx)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self._create()
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        try:
            # IMMEDIATE takes the write lock up front: check-then-reserve is atomic.
            db.execute("BEGIN IMMEDIATE")
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        finally:
            db.close()

    def reserve(self, request: Request, lease: float) -> Reservation:
        """Decide whether ``request`` sends now; if so, hold its page for ``lease`` seconds."""
        with self._tx() as db:
            page = _page(db, request.key)
            verdict = decide(page, request)
            if page is None or verdict == Verdict.NEW:
                page_id = uuid.uuid4().hex
                db.execute("DELETE FROM page_channel WHERE key = ?", (request.key,))
            else:
                page_id = page.page_id
            if not verdict.sends:
                if verdict != Verdict.DELIVERED:
                    _bump(db, UPDATED if _update_details(db, request) else SUPPRESSED)
                return Reservation(verdict, page_id, _confirmed(db, request.key, page_id))
            db.execute(
                "INSERT INTO notification_page (key, source, page, holder, priority, sent_at, "
                "reserved_until, confirmed) VALUES (?, ?, ?, ?, ?, ?, ?, 0) "
                "ON CONFLICT(key) DO UPDATE SET page = excluded.page, holder = excluded.holder, "
                "priority = excluded.priority, sent_at = excluded.sent_at, "
                "reserved_until = excluded.reserved_until, confirmed = 0",
                (
                    *(request.key, request.source, page_id, request.holder),
                    *(request.priority.value, request.now, request.now + lease),
                ),
            )
            return Reservation(verdict, page_id, _confirmed(db, request.key, page_id))

    def confirm(self, key: str, page_id: str, channel: str, now: float) -> None:
        """``channel`` took page ``page_id``: a resend of that page skips it."""
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO page_channel (key, page, channel, confirmed_at) "
                "VALUES (?, ?, ?, ?)",
                (key, page_id, channel, now),
            )

    def finish(self, key: str, page_id: str, delivered: bool) -> None:
        """Close a page: confirmed if anyone heard it, else dropped (the next one is news).

        A page another sender has replaced meanwhile (a higher priority) is left alone.
        """
        with self._tx() as db:
            if delivered:
                db.execute(
                    "UPDATE notification_page SET confirmed = 1 WHERE key = ? AND page = ?",
                    (key, page_id),
                )
                return
            db.execute("DELETE FROM notification_page WHERE key = ? AND page = ?", (key, page_id))
            db.execute("DELETE FROM page_channel WHERE key = ? AND page = ?", (key, page_id))

    def mark_alerting(
        self, source: str, alert: str, priority: Priority, message: str, now: float
    ) -> None:
        """Open (or update) an alert of ``source``, keeping the highest priority it paged at."""
        with self._tx() as db:
            found = db.execute(
                "SELECT priority FROM open_alert WHERE source = ? AND alert = ?", (source, alert)
            ).fetchone()
            if found is None:
                db.execute(
                    "INSERT INTO open_alert (source, alert, priority, since, updated_at, message) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (source, alert, priority.value, now, now, message),
                )
                return
            highest = max(Priority(found[0]), priority, key=lambda p: p.rank)
            db.execute(
                "UPDATE open_alert SET priority = ?, message = ?, updated_at = ? "
                "WHERE source = ? AND alert = ?",
                (highest.value, message, now, source, alert),
            )

    def active_alert(self, source: str) -> Priority | None:
        """The highest priority of ``source``'s open alerts, or None when it has none."""
        with self._tx() as db:
            rows = db.execute("SELECT priority FROM open_alert WHERE source = ?", (source,))
            found = [Priority(p) for (p,) in rows.fetchall()]
        return max(found, key=lambda p: p.rank) if found else None

    def active_alerts(self) -> list[OpenAlert]:
        """Every open alert, oldest first."""
        with self._tx() as db:
            rows = db.execute(
                "SELECT source, alert, priority, since, updated_at, message FROM open_alert "
                "ORDER BY since"
            ).fetchall()
        return [OpenAlert(s, a, Priority(p), since, up, m) for s, a, p, since, up, m in rows]

    def resolve(self, source: str) -> None:
        """Close ``source``'s alerts and forget its pages: its next alert is news again."""
        with self._tx() as db:
            db.execute("DELETE FROM open_alert WHERE source = ?", (source,))
            db.execute(
                "DELETE FROM page_channel WHERE key IN "
                "(SELECT key FROM notification_page WHERE source = ?)",
                (source,),
            )
            db.execute("DELETE FROM notification_page WHERE source = ?", (source,))

    def count(self, name: str) -> None:
        """Add one to counter ``name``."""
        with self._tx() as db:
            _bump(db, name)

    def counters(self) -> dict[str, int]:
        """Every counter and its value."""
        with self._tx() as db:
            rows = db.execute("SELECT name, value FROM notification_counter").fetchall()
        return {name: value for name, value in rows}


def _page(db: sqlite3.Connection, key: str) -> Page | None:
    found = db.execute(
        "SELECT page, holder, priority, sent_at, reserved_until, confirmed "
        "FROM notification_page WHERE key = ?",
        (key,),
    ).fetchone()
    if found is None:
        return None
    page_id, holder, priority, sent_at, reserved_until, confirmed = found
    return Page(page_id, holder, Priority(priority), sent_at, reserved_until, bool(confirmed))


def _update_details(db: sqlite3.Connection, request: Request) -> bool:
    """An open alert that does not page takes the request's details; False if none is open."""
    if request.alert is None:
        return False
    updated = db.execute(
        "UPDATE open_alert SET message = ?, updated_at = ? WHERE source = ? AND alert = ?",
        (request.message, request.now, request.source, request.alert),
    )
    return updated.rowcount > 0


def _confirmed(db: sqlite3.Connection, key: str, page_id: str) -> frozenset[str]:
    rows = db.execute("SELECT channel FROM page_channel WHERE key = ? AND page = ?", (key, page_id))
    return frozenset(channel for (channel,) in rows.fetchall())


def _carry_over_active_alerts(db: sqlite3.Connection) -> None:
    """A state file of an earlier version: its open alerts (one per source) carry over."""
    old = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'active_alert'"
    if db.execute(old).fetchone() is None:
        return
    db.execute(
        "INSERT OR IGNORE INTO open_alert (source, alert, priority, since, updated_at, message) "
        "SELECT source, '', priority, since, since, message FROM active_alert"
    )
    db.execute("DROP TABLE active_alert")


def _bump(db: sqlite3.Connection, name: str) -> None:
    db.execute(
        "INSERT INTO notification_counter (name, value) VALUES (?, 1) "
        "ON CONFLICT(name) DO UPDATE SET value = value + 1",
        (name,),
    )
