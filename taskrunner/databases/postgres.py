"""PostgreSQL: VACUUM and ANALYZE over psycopg, backups with pg_dump -Fc."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict

from taskrunner.databases.base import (
    BackupCheck,
    DatabaseEngine,
    SizeChange,
)
from taskrunner.errors import configuration_error

CONNECT_TIMEOUT_SECONDS = 10
"""Give up connecting after this long (the activity's retry policy tries again)."""

_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA )", re.MULTILINE)
"""A table definition line of ``pg_restore --list`` (not its TABLE DATA entry)."""


class PostgresEngine(DatabaseEngine):
    suffix = ".dump"

    def __init__(self, dsn: str, bin_dir: Path | None = None) -> None:
        self.dsn = dsn
        self.bin_dir = bin_dir
        self._conn: psycopg.Connection | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    @property
    def location(self) -> str:
        try:
            params = conninfo_to_dict(self.dsn)
        except psycopg.ProgrammingError:
            return "(unparsable dsn)"
        host = params.get("host") or "localhost"
        port = params.get("port") or 5432
        return f"{host}:{port}/{params.get('dbname') or params.get('user') or ''}"

    @contextlib.contextmanager
    def _connect(self) -> Iterator[psycopg.Connection]:
        # VACUUM cannot run inside a transaction block: autocommit.
        conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        with self._lock:
            self._conn = conn
        try:
            yield conn
        finally:
            with self._lock:
                self._conn = None
            conn.close()

    def vacuum(self) -> SizeChange:
        with self._connect() as conn:
            size = "SELECT pg_database_size(current_database())"
            before = _scalar(conn, size)
            conn.execute("VACUUM")
            return SizeChange(before, _scalar(conn, size))

    def analyze(self) -> int:
        with self._connect() as conn:
            conn.execute("ANALYZE")
            return _scalar(conn, "SELECT count(*) FROM pg_stat_user_tables")

    def backup(self, dest: Path) -> BackupCheck:
        pg_dump, pg_restore = self._tool("pg_dump"), self._tool("pg_restore")
        # The DSN goes in --dbname so one string carries host, port, user and options.
        self._run([pg_dump, "--format=custom", f"--file={dest}", f"--dbname={self.dsn}"])
        listing = self._run([pg_restore, "--list", str(dest)])
        entries = [line for line in listing.splitlines() if line and not line.startswith(";")]
        tables = len(_TOC_TABLE.findall(listing))
        return BackupCheck(tables, f"pg_restore --list: {len(entries)} entries")

    def _tool(self, name: str) -> str:
        found = shutil.which(name, path=str(self.bin_dir) if self.bin_dir else None)
        if found is None:
            where = self.bin_dir if self.bin_dir else "the PATH"
            raise configuration_error(
                f"{name} not found in {where}; install the PostgreSQL client tools on the worker "
                "or set TASKRUNNER_MAINTENANCE__PG_BIN_DIR"
            )
        return found

    def _run(self, args: list[str]) -> str:
        with self._lock:
            proc = self._proc = subprocess.Popen(
                args, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        try:
            out, err = proc.communicate()
        finally:
            with self._lock:
                self._proc = None
        if proc.returncode != 0:
            tool = Path(args[0]).name
            detail = err.decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"{tool} failed (exit {proc.returncode}): {' '.join(detail[:3])}")
        return out.decode(errors="replace")

    def interrupt(self) -> None:
        with self._lock:
            if self._proc is not None:
                self._proc.kill()
            if self._conn is not None:
                with contextlib.suppress(psycopg.Error):
                    self._conn.cancel_safe()


def _scalar(conn: psycopg.Connection, query: str) -> int:
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])
