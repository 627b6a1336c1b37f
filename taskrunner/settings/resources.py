"""Settings of the outside resources tasks use: SMTP, the application database, data sync."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from taskrunner.tasks.source_policy import check_prefix


class SmtpSettings(BaseModel):
    """An SMTP server, shared by the email task and the email notification channel.

    The password is never a setting value: it is read at send time from the
    environment variable named by ``password_env``, so it never enters workflow
    inputs, results or history.
    """

    model_config = ConfigDict(extra="forbid")

    host: str | None = None
    """None: no SMTP server; the email task writes .eml files into the outbox instead."""
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str | None = None
    password_env: str = "TASKRUNNER_SMTP_PASSWORD"
    from_address: str = "taskrunner@localhost"
    timeout_seconds: float = Field(default=30.0, gt=0)


class DataSyncSettings(BaseModel):
    """How the dataSync task reads its source and writes the destination."""

    model_config = ConfigDict(extra="forbid")

    allowed_dirs: list[Path] | None = None
    """Folders a file source may be read from (and their subfolders), symlinks resolved;
    None: ``imports/`` in the data directory; an empty list: no file at all."""
    allowed_urls: list[Annotated[str, AfterValidator(check_prefix)]] = Field(default_factory=list)
    """URL prefixes a source may be fetched from, each ``scheme://host[:port]/path``, e.g.
    ``https://api.example.com/exports/``; ``https://`` or ``http://`` alone: any host of
    that scheme whose addresses are all public. A loopback, private, link-local (cloud
    metadata), CGNAT, multicast or reserved address is fetched only from a prefix that
    names its host. Empty (the default): no URL at all."""
    http_timeout_seconds: float = Field(default=30.0, gt=0)
    """Connect/read timeout of one HTTP(S) source request."""
    max_source_bytes: int = Field(default=16 * 1024 * 1024, ge=1)
    """A source larger than this is refused before it is read. Parsing takes several times
    the source's size in memory, for each dataSync task running at once."""
    batch_size: int = Field(default=500, ge=1, le=100_000)
    """Records upserted (and committed) per batch; the activity heartbeats after each."""


class DatabaseTarget(BaseModel):
    """A database the runner works on: a SQLite file or a PostgreSQL DSN."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="app", min_length=1)
    kind: Literal["sqlite", "postgres"] = "sqlite"
    path: Path | None = None
    """SQLite file; None means ``<data_dir>/app.db``, which the first task using it creates
    (before that, maintenance has nothing to do). A file named here must exist."""
    dsn: str | None = None
    """PostgreSQL connection string (kind = postgres)."""

    @model_validator(mode="after")
    def _where(self) -> DatabaseTarget:
        if self.kind == "postgres" and not self.dsn:
            raise ValueError(f"database {self.name!r} is postgres but has no dsn")
        return self
