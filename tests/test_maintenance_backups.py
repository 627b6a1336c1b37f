"""Backup files of one target: a ``.partial`` still being written is never removed, one
whose writer died is, and retention counts only the target's finished backups (the
``prune_backups`` activity itself: tests/test_maintenance.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from taskrunner.maintenance.backups import (
    PARTIAL_SUFFIX,
    backup_name,
    claimed,
    prune,
    remove_unclaimed_partials,
)

STAMP = datetime(2026, 6, 10, 2, 0, tzinfo=UTC)


def partial(folder: Path, target: str, minutes: int = 0) -> Path:
    return folder / (
        backup_name(target, STAMP + timedelta(minutes=minutes), ".db") + PARTIAL_SUFFIX
    )


def test_a_partial_being_written_stays_and_goes_once_its_writer_is_done(tmp_path: Path) -> None:
    writing = partial(tmp_path, "app")
    with claimed(writing):
        writing.write_bytes(b"half a backup")  # the writer opens it by name
        assert remove_unclaimed_partials(tmp_path, "app") == []
        assert writing.exists()
    # Its writer gone without renaming it (a killed attempt): a leftover.
    assert remove_unclaimed_partials(tmp_path, "app") == [writing]
    assert not writing.exists()


def test_only_the_targets_own_partials_are_removed(tmp_path: Path) -> None:
    ours, theirs = partial(tmp_path, "app"), partial(tmp_path, "shop")
    stranger = tmp_path / f"notes.txt{PARTIAL_SUFFIX}"
    for path in (ours, theirs, stranger):
        path.write_bytes(b"x")
    assert remove_unclaimed_partials(tmp_path, "app") == [ours]
    assert theirs.exists() and stranger.exists()


def test_retention_never_counts_a_partial_or_another_targets_backup(tmp_path: Path) -> None:
    # Newer than both finished backups: counted, it would be the one kept.
    older, newer = (tmp_path / backup_name("app", STAMP + timedelta(days=d), ".db") for d in (0, 1))
    unfinished = partial(tmp_path, "app", minutes=60 * 48)
    other = tmp_path / backup_name("shop", STAMP + timedelta(days=3), ".db")
    for path in (older, newer, unfinished, other):
        path.write_bytes(b"x")
    assert prune(tmp_path, "app", keep=1) == ([newer], [older])
    assert not older.exists()
    assert newer.exists() and unfinished.exists() and other.exists()
