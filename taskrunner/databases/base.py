"""The interface every database engine implements for maintenance."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import NamedTuple


class SizeChange(NamedTuple):
    before: int
    after: int


class BackupCheck(NamedTuple):
    tables: int
    verification: str


class DatabaseEngine(ABC):
    """Vacuum, analyze and back up one database. Methods block: call them in a thread."""

    suffix: str
    """File name ending of this engine's backups (``.db``, ``.dump``)."""

    @property
    @abstractmethod
    def location(self) -> str:
        """Where the database is, safe to show (no password)."""

    @abstractmethod
    def vacuum(self) -> SizeChange:
        """Reclaim free space; return the database size in bytes before and after."""

    @abstractmethod
    def analyze(self) -> int:
        """Refresh planner statistics; return how many tables were analysed."""

    @abstractmethod
    def backup(self, dest: Path) -> BackupCheck:
        """Write a consistent backup to ``dest`` and verify it; raise when it is not sound."""

    @abstractmethod
    def interrupt(self) -> None:
        """Stop the operation running in another thread (best effort, called on cancel)."""
