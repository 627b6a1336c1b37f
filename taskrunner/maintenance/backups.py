"""Backup files of one target: their names, the claim on one being written, retention.

A backup is written as ``<name>.partial`` and renamed once verified. The attempt
writing it holds an exclusive ``flock`` on it; the kernel drops that lock when the
attempt's process dies, so a ``.partial`` nobody holds is the leftover of a killed
attempt (a worker SIGKILLed mid-dump) and can be deleted, while one still being
written (another run's) is left alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

STAMP_FORMAT = "%Y%m%dT%H%M%S.%fZ"
"""Backup timestamp (UTC, microseconds so two quick backups never collide); sorts by time."""
_STAMP = r"\d{8}T\d{6}\.\d{6}Z"
PARTIAL_SUFFIX = ".partial"
"""Ending of a backup still being written (retention never counts it)."""


def safe_name(target: str) -> str:
    """The target name made safe for a file name (no path separators)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", target)


def backup_name(target: str, stamp: datetime, suffix: str) -> str:
    """``app-20260102T030405.000006Z.db``: the target, the UTC time, the engine's suffix."""
    return f"{safe_name(target)}-{stamp.astimezone(UTC).strftime(STAMP_FORMAT)}{suffix}"


def _pattern(target: str, partial: bool) -> re.Pattern[str]:
    tail = re.escape(PARTIAL_SUFFIX) if partial else ""
    return re.compile(rf"^{re.escape(safe_name(target))}-{_STAMP}\.[a-z]+{tail}$")


def _locked(path: Path, flags: int, wait: bool) -> int | None:
    """A descriptor of ``path`` holding an exclusive ``flock`` on it, or None.

    None when ``path`` is gone (maybe deleted between our open and our lock: the
    lock would then be on a file nobody sees) or, unless ``wait``, held by another.
    """
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(path).st_ino == os.fstat(fd).st_ino:
            return fd
    except (BlockingIOError, FileNotFoundError):
        pass
    os.close(fd)
    return None


@contextlib.contextmanager
def claimed(path: Path) -> Iterator[None]:
    """Create ``path`` and hold an exclusive lock on it while the block writes it.

    The writer (sqlite3, pg_dump) opens the same file by name and writes into this
    inode; the lock lives on our descriptor, which no child inherits.
    """
    fd = None
    while fd is None:  # a cleaner deleted the file between our open and our lock
        fd = _locked(path, os.O_RDWR | os.O_CREAT, wait=True)
    try:
        yield
    finally:
        os.close(fd)


def remove_unclaimed_partials(folder: Path, target: str) -> list[Path]:
    """Delete the target's ``.partial`` files that no running attempt holds; return them."""
    ours = _pattern(target, partial=True)
    removed = []
    for path in sorted(folder.glob(f"*{PARTIAL_SUFFIX}")):
        fd = _locked(path, os.O_RDONLY, wait=False) if ours.match(path.name) else None
        if fd is None:
            continue  # not ours, gone, or being written right now
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        finally:
            os.close(fd)
        removed.append(path)
    return removed


def prune(folder: Path, target: str, keep: int) -> tuple[list[Path], list[Path]]:
    """Delete all but the newest ``keep`` finished backups of the target: (kept, removed).

    Only files with the backup name pattern count; anything else in the folder stays.
    """
    ours = _pattern(target, partial=False)
    backups = sorted(
        (p for p in folder.glob("*") if p.is_file() and ours.match(p.name)),
        key=lambda p: p.name,
        reverse=True,
    )
    for old in backups[keep:]:
        old.unlink(missing_ok=True)
    return backups[:keep], backups[keep:]
