"""Payloads of the built-in task types and what a task activity returns."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Payload(BaseModel):
    # A typo in a payload field is an error, not a silently ignored key.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EmailPayload(_Payload):
    recipient: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    subject: str = Field(min_length=1, max_length=998)
    body: str = Field(default="", max_length=1_000_000)


class ReportPayload(_Payload):
    report_type: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    """Name of a report declared in settings (``reports``), e.g. ``sales``."""
    period: Literal["daily", "weekly", "monthly"] = "daily"
    """The window the report covers, ending when it runs: 1, 7 or 30 days."""


class DataSyncPayload(_Payload):
    source: str = Field(min_length=1, max_length=2048)
    """An http(s) URL or a file path holding a JSON array of records."""
    destination: str = Field(min_length=1, max_length=63, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Table the records are upserted into."""
    key: str = Field(default="id", max_length=63, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Field of every record (and primary-key column of the table) records are matched by."""

    @field_validator("source")
    @classmethod
    def _known_scheme(cls, source: str) -> str:
        scheme = source.split("://", 1)[0].lower() if "://" in source else None
        if scheme is not None and scheme not in ("http", "https", "file"):
            raise ValueError(f"source must be an http(s) URL or a file path, not {scheme}://")
        return source


class TaskActivityInput(BaseModel):
    """What the queue passes to a task type's activity."""

    task_id: str
    attempt_offset: int = 0
    """Attempts made in earlier runs of this task (a retried failed task starts above 0)."""
    payload: dict[str, Any]


class TaskResult(BaseModel):
    """What every task activity returns: a one-line summary plus details."""

    summary: str
    details: dict[str, Any] = Field(default_factory=dict)
