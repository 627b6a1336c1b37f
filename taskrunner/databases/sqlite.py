"""SQLite: VACUUM, ANALYZE, and online backups through the sqlite3 backup API."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from taskrunner.databases.base import (
    BackupCheck,
    DatabaseEngine,
    SizeChange,
)
from taskrunner.errors import configuration_error

BACKUP_PAGES_PER_STEP = 4096
"""Pages copied per backup step; between steps other connections may write."""


class SqliteEngine(DatabaseEngine):
    suffix = ".db"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._open: list[sqlite3.Connection] = []
        self._cancelled = threading.Event()

    @property
    def location(self) -> str:
        return str(self.path)

    @contextlib.contextmanager
    def _connect(
        self, path: Path | None = None, *, create: bool = False
    ) -> Iterator[sqlite3.Connection]:
        path = path or self.path
        if not create and not path.is_file():
            # sqlite3.connect would silently create an empty database instead.
            raise configuration_error(f"SQLite database {path} does not exist")
        mode = "rwc" if create else "rw"
        conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, isolation_level=None)
        self._open.append(conn)
        try:
            yield conn
        finally:
            self._open.remove(conn)
            conn.close()

    def _size(self) -> int:
        # In WAL mode pages live in the -wal file until a checkpoint.
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    def vacuum(self) -> SizeChange:
        with self._connect() as conn:
            before = self._size()
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            return SizeChange(before, self._size())

    def analyze(self) -> int:
        with self._connect() as conn:
            conn.execute("ANALYZE")
            return _count_tables(conn)

    def backup(self, dest: Path) -> BackupCheck:
        with self._connect() as src, self._connect(dest, create=True) as dst:
            src.backup(dst, pages=BACKUP_PAGES_PER_STEP, progress=self._check_cancelled)
        with self._connect(dest) as copy:
            rows = [r[0] for r in copy.execute("PRAGMA integrity_check")]
            if rows != ["ok"]:
                raise RuntimeError(f"backup {dest} failed integrity_check: {'; '.join(rows[:3])}")
            return BackupCheck(_count_tables(copy), "integrity_check ok")

    def _check_cancelled(self, status: int, remaining: int, total: int) -> None:
        # Raising from the progress callback aborts the backup between steps.
        if self._cancelled.is_set():
            raise InterruptedError("backup cancelled")

    def interrupt(self) -> None:
        self._cancelled.set()
        for conn in list(self._open):
            with contextlib.suppress(sqlite3.Error):
                conn.interrupt()


def _count_tables(conn: sqlite3.Connection) -> int:
    row = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchone()
    return int(row[0])
