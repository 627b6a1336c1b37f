"""Every knob of the runner in one pydantic-settings object.

Values come from (highest first) environment variables prefixed ``TASKRUNNER_``
(nested with ``__``, e.g. ``TASKRUNNER_HEALTH__CPU_THRESHOLD=80``), then a TOML
file (``TASKRUNNER_CONFIG`` or ``./taskrunner.toml`` when present), then the
defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from taskrunner.errors import ConfigError

CONFIG_FILE_ENV = "TASKRUNNER_CONFIG"
"""Environment variable naming the TOML settings file."""
DEFAULT_CONFIG_FILE = Path("taskrunner.toml")
"""Settings file read from the working directory when present."""
DEFAULT_THRESHOLD = 90.0
"""CPU, memory and disk percentage at or above which the system is unhealthy (the seed's 90)."""

Percent = Annotated[float, Field(ge=0, le=100)]


def validate_timezone(name: str) -> str:
    """Return ``name`` when it is a known IANA zone, else raise ValueError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin)"
        ) from None
    return name


class _Probe(BaseModel):
    name: str = Field(min_length=1)
    timeout_seconds: float = Field(default=5.0, gt=0, le=300)


class TcpProbe(_Probe):
    kind: Literal["tcp"] = "tcp"
    host: str
    port: int = Field(ge=1, le=65535)


class HttpProbe(_Probe):
    kind: Literal["http"] = "http"
    url: str = Field(pattern=r"^https?://")
    expected_status: int = Field(default=200, ge=100, le=599)


class PostgresProbe(_Probe):
    kind: Literal["postgres"] = "postgres"
    dsn: str


class RedisProbe(_Probe):
    kind: Literal["redis"] = "redis"
    url: str = Field(pattern=r"^rediss?://")


class AmqpProbe(_Probe):
    kind: Literal["amqp"] = "amqp"
    url: str = Field(pattern=r"^amqps?://")


class DockerProbe(_Probe):
    kind: Literal["docker"] = "docker"
    container: str
    docker_host: str | None = None
    """Docker engine URL; the environment's DOCKER_HOST (or the local socket) when unset."""


ProbeSpec = Annotated[
    TcpProbe | HttpProbe | PostgresProbe | RedisProbe | AmqpProbe | DockerProbe,
    Field(discriminator="kind"),
]


class HealthSettings(BaseModel):
    cpu_threshold: Percent = DEFAULT_THRESHOLD
    memory_threshold: Percent = DEFAULT_THRESHOLD
    disk_threshold: Percent = DEFAULT_THRESHOLD
    disk_path: Path = Path("/")
    api_url: str | None = Field(default=None, pattern=r"^https?://")
    """URL whose response time is reported as the ``responseTime`` metric."""
    api_timeout_seconds: float = Field(default=5.0, gt=0)
    cpu_sample_seconds: float = Field(default=0.5, gt=0, le=10)
    probes: list[ProbeSpec] = Field(default_factory=list)

    @field_validator("probes")
    @classmethod
    def _unique_names(cls, probes: list[Any]) -> list[Any]:
        names = [p.name for p in probes]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"probe names must be unique, repeated: {', '.join(dupes)}")
        return probes


class SmtpSettings(BaseModel):
    """An SMTP server, shared by the email task and the email notification channel.

    The password is never a setting value: it is read at send time from the
    environment variable named by ``password_env``, so it never enters workflow
    inputs, results or history.
    """

    host: str | None = None
    """None: no SMTP server; the email task writes .eml files into the outbox instead."""
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str | None = None
    password_env: str = "TASKRUNNER_SMTP_PASSWORD"
    from_address: str = "taskrunner@localhost"
    timeout_seconds: float = Field(default=30.0, gt=0)


class DatabaseTarget(BaseModel):
    """A database the runner works on: a SQLite file or a PostgreSQL DSN."""

    name: str = Field(default="app", min_length=1)
    kind: Literal["sqlite", "postgres"] = "sqlite"
    path: Path | None = None
    """SQLite file; None means ``<data_dir>/app.db``."""
    dsn: str | None = None
    """PostgreSQL connection string (kind = postgres)."""

    @model_validator(mode="after")
    def _where(self) -> DatabaseTarget:
        if self.kind == "postgres" and not self.dsn:
            raise ValueError(f"database {self.name!r} is postgres but has no dsn")
        return self


class QueueSettings(BaseModel):
    """The durable task queue (see the README's "Task queue" section).

    Everything but the client-side knobs is fixed when a queue's workflow is
    created and carried over continue-as-new.
    """

    name: str = Field(default="default", min_length=1, max_length=200, pattern=r"^[\w.-]+$")
    """Queue used when a command names none (workflow id ``task-queue/<name>``)."""
    max_concurrency: int = Field(default=10, ge=1, le=1000)
    """Tasks running at once in one queue."""
    start_interval_ms: int = Field(default=0, ge=0, le=3_600_000)
    """Pause between two task starts (the seed's 100 ms DelayStep); 0 = none."""
    recent_limit: int = Field(default=100, ge=0, le=10_000)
    """Completed (and cancelled) tasks kept for listing; counters count them all."""
    idempotency_window: int = Field(default=10_000, ge=0, le=100_000)
    """Keys of finished tasks remembered (newest first); active tasks' keys always are."""
    history_threshold: int = Field(default=5_000, ge=100, le=40_000)
    """Continue as new at this many history events (or earlier when the server suggests)."""
    max_active_tasks: int = Field(default=50_000, ge=1)
    """Pending + running tasks one queue accepts; more are rejected (shard instead)."""
    max_payload_bytes: int = Field(default=128 * 1024, ge=64, le=1024 * 1024)
    """Largest task payload (JSON); big data belongs in a file or URL."""
    batch_size: int = Field(default=500, ge=1, le=5_000)
    """Tasks per update when enqueueing a batch (clients split larger batches)."""
    drain_timeout_seconds: float = Field(default=3600.0, gt=0)
    """Longest the processor waits for one drain before giving up."""


class Settings(BaseSettings):
    """The runner's settings. See the README's settings table."""

    model_config = SettingsConfigDict(
        env_prefix="TASKRUNNER_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    task_queue: str = Field(default="taskrunner", min_length=1)
    """Temporal task queue the worker polls."""
    data_dir: Path = Path(".taskrunner")
    """Where the embedded server's SQLite file, outbox, reports and backups live."""
    server_port: int = Field(default=7233, ge=1, le=65535)
    """gRPC port of the embedded dev server."""
    ui_port: int = Field(default=8233, ge=1, le=65535)
    """Web UI port of the embedded dev server."""
    namespace: str = "default"
    """Namespace used with the embedded server (TEMPORAL_NAMESPACE wins for a remote one)."""
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    timezone: str = "UTC"
    """IANA time zone for schedules and the maintenance window."""
    health: HealthSettings = Field(default_factory=HealthSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    database: DatabaseTarget = Field(default_factory=DatabaseTarget)
    """The application database the report and dataSync tasks use."""
    queue: QueueSettings = Field(default_factory=QueueSettings)

    _check_tz = field_validator("timezone")(lambda cls, v: validate_timezone(v))

    def sqlite_path(self, target: DatabaseTarget) -> Path:
        """Where a SQLite target's file is (its default lives in the data directory)."""
        return target.path if target.path is not None else self.data_dir / "app.db"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_file = config_file_path()
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


def config_file_path() -> Path | None:
    """The TOML file to read, or None. A named file that does not exist is an error."""
    named = os.environ.get(CONFIG_FILE_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"settings file {path} ({CONFIG_FILE_ENV}) does not exist")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Load settings, turning any invalid value into a one-line ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        raise ConfigError(describe_validation_error(err)) from None
    except ValueError as err:  # e.g. a TOML syntax error
        raise ConfigError(f"cannot read settings: {err}".splitlines()[0]) from None


def describe_validation_error(err: ValidationError) -> str:
    """One line naming the first bad setting (as its environment variable) and why."""
    first = err.errors()[0]
    loc = [str(part) for part in first["loc"] if not isinstance(part, int)]
    loc = [
        part for part in loc if part not in {"tcp", "http", "postgres", "redis", "amqp", "docker"}
    ]
    env_name = "TASKRUNNER_" + "__".join(loc).upper() if loc else "settings"
    value = first.get("input")
    shown = f" (got {value!r})" if value is not None and not isinstance(value, dict | list) else ""
    more = f"; and {err.error_count() - 1} more problem(s)" if err.error_count() > 1 else ""
    return f"invalid setting {env_name}{shown}: {first['msg']}{more}"
