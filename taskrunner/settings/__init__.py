"""Every knob of the runner in one pydantic-settings object.

Values come from (highest first) environment variables prefixed ``TASKRUNNER_``
(nested with ``__``, e.g. ``TASKRUNNER_HEALTH__CPU_THRESHOLD=80``), then a TOML
file (``TASKRUNNER_CONFIG`` or ``./taskrunner.toml`` when present), then the
defaults below. An unknown key or ``TASKRUNNER_`` variable is refused (see problems.py):
only the settings file's and the secrets' variables (named by ``*_env`` settings) may be
set without being settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from taskrunner.errors import ConfigError
from taskrunner.settings.encryption import EncryptionSettings
from taskrunner.settings.health import HealthSettings
from taskrunner.settings.jobs import JobList
from taskrunner.settings.maintenance import MaintenanceSettings
from taskrunner.settings.notifications import NotificationSettings
from taskrunner.settings.observability import DashboardSettings, LogSettings, MetricsSettings
from taskrunner.settings.problems import describe, secret_variables, unknown_variables
from taskrunner.settings.queue import QueueSettings
from taskrunner.settings.reports import (
    Reports,
    default_reports,
)
from taskrunner.settings.resources import (
    DatabaseTarget,
    DataSyncSettings,
    SmtpSettings,
)
from taskrunner.settings.schedules import SchedulesSettings
from taskrunner.settings.worker import WorkerSettings
from taskrunner.timezones import validate_timezone

CONFIG_FILE_ENV = "TASKRUNNER_CONFIG"
"""Environment variable naming the TOML settings file."""
DEFAULT_CONFIG_FILE = Path("taskrunner.toml")
"""Settings file read from the working directory when present."""


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
    private_files: bool = True
    """Everything the runner writes is its user's alone: folders 0700, files 0600."""
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
    reports: Reports = Field(default_factory=default_reports)
    """Reports the report task can run, by name (the built-in ``sales`` is always there)."""
    data_sync: DataSyncSettings = Field(default_factory=DataSyncSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    database: DatabaseTarget = Field(default_factory=DatabaseTarget)
    """The application database the report and dataSync tasks use."""
    schedules: SchedulesSettings = Field(default_factory=SchedulesSettings)

    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    """Notification channels, routing, retries and alert-storm protection."""

    maintenance: MaintenanceSettings = Field(default_factory=MaintenanceSettings)
    encryption: EncryptionSettings = Field(default_factory=EncryptionSettings)
    """Payload encryption keys and the codec server (off until a key is configured)."""
    queue: QueueSettings = Field(default_factory=QueueSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    """The worker process: identity, concurrency limits, graceful shutdown, versioning."""
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    """The worker's Prometheus endpoint (on, loopback, by default)."""
    logs: LogSettings = Field(default_factory=LogSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    """The operations dashboard ``taskrunner run`` serves."""
    jobs: JobList = Field(default_factory=list)
    """Periodic jobs: each enqueues a task on a cron or an interval (``[[jobs]]``)."""

    task_modules: list[str] = Field(default_factory=list)
    """Python modules declaring the user's task types (``@task_type``), imported by the
    worker at start; every worker of a task queue must load the same ones."""
    task_path: list[Path] = Field(default_factory=list)
    """Folders put in front of ``sys.path`` before importing ``task_modules``."""

    _check_tz = field_validator("timezone")(lambda cls, v: validate_timezone(v))

    def sqlite_path(self, target: DatabaseTarget) -> Path:
        """Where a SQLite target's file is (its default lives in the data directory)."""
        return target.path if target.path is not None else self.data_dir / "app.db"

    def maintenance_targets(self) -> list[DatabaseTarget]:
        """The databases maintenance works on (the application database by default)."""
        return list(self.maintenance.targets) or [self.database]

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def imports_dir(self) -> Path:
        """Where dataSync reads files from unless ``data_sync.allowed_dirs`` says otherwise."""
        return self.data_dir / "imports"

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
    """Load settings, turning any invalid value or unknown key into a one-line ConfigError."""
    try:
        settings = Settings(**overrides)
    except ValidationError as err:
        raise ConfigError(describe(err, Settings)) from None
    except ValueError as err:  # e.g. a TOML syntax error
        raise ConfigError(f"cannot read settings: {err}".splitlines()[0]) from None
    except OSError as err:  # the working directory or the file cannot be read
        where = err.filename or "the settings file"
        raise ConfigError(
            f"cannot read settings file {where}: {err.strerror or err}; check its permissions "
            f"or name another with {CONFIG_FILE_ENV}"
        ) from None
    known = known_variables(settings)
    unknown = unknown_variables(Settings, known)
    if unknown is not None:
        raise ConfigError(describe(unknown, Settings, known))
    return settings


def known_variables(settings: Settings) -> set[str]:
    """``TASKRUNNER_`` variables that are not settings: the settings file and every secret's."""
    return {CONFIG_FILE_ENV, *secret_variables(settings)}
