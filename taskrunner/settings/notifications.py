"""The ``notifications`` settings section: channels, routing, retries and cooldown.

Secrets are never values here: the SMTP password, the Slack webhook URL and the
webhook signing secret are named by environment variable (``*_env``) and read by
the activity at send time, so they never reach workflow inputs, results or history.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from taskrunner.notifications.models import Priority

DEFAULT_COOLDOWN_SECONDS = 1800.0
"""An identical notification within this many seconds is suppressed (30 minutes)."""
DEFAULT_CHANNEL_TIMEOUT = 10.0
"""Seconds one delivery attempt on one channel may take."""
DEFAULT_ATTEMPTS = 3
"""Delivery attempts per channel inside one activity run (first try included)."""
SLACK_URL_ENV = "TASKRUNNER_SLACK_WEBHOOK_URL"
"""Default environment variable holding the Slack incoming-webhook URL."""
MAX_DELIVERY_SECONDS = 50.0
"""Worst-case time of one send_notification run; stays under NOTIFY_TIMEOUT (60 s)."""
STATE_FILE = "notifications.db"
"""Default SQLite file of cooldown and alert state, in the data directory."""
LOG_FILE = "notifications.jsonl"
"""Default file of the log channel, in the data directory."""
SIGNATURE_HEADER = "X-Taskrunner-Signature"
"""Header carrying ``sha256=<hex HMAC of the body>`` on signed webhook requests."""


class ChannelSettings(BaseModel):
    """What every channel has: an on/off switch and the lowest priority it receives."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    min_priority: Priority = Priority.INFO


class ConsoleChannel(ChannelSettings):
    """One ``📧 [PRIORITY] message`` line per notification on standard output."""

    enabled: bool = True


class LogChannel(ChannelSettings):
    """One JSON object per line, appended to a file."""

    enabled: bool = True
    path: Path | None = None
    """None means ``<data_dir>/notifications.jsonl``."""


class EmailChannel(ChannelSettings):
    """Email through the ``smtp`` section's server (host, port, security, login)."""

    min_priority: Priority = Priority.ERROR
    from_address: str | None = None
    """None means ``smtp.from_address``."""
    to: list[str] = Field(default_factory=list)
    subject_prefix: str = "[taskrunner]"
    timeout_seconds: float = Field(default=DEFAULT_CHANNEL_TIMEOUT, gt=0)
    """Own timeout: ``smtp.timeout_seconds`` is sized for the email task, not for alerts."""

    @model_validator(mode="after")
    def _has_recipients(self) -> EmailChannel:
        if self.enabled and not self.to:
            raise ValueError("the email channel is enabled but has no recipients (to)")
        return self


class SlackChannel(ChannelSettings):
    """A Slack incoming webhook; its URL is a secret, so only its variable's name is here."""

    min_priority: Priority = Priority.WARNING
    webhook_url_env: str = SLACK_URL_ENV
    timeout_seconds: float = Field(default=DEFAULT_CHANNEL_TIMEOUT, gt=0)


class WebhookChannel(ChannelSettings):
    """A generic JSON POST, optionally signed with HMAC-SHA256."""

    url: str | None = Field(default=None, pattern=r"^https?://")
    url_env: str | None = None
    """Name of an environment variable holding the URL (when the URL embeds a token)."""
    secret_env: str | None = None
    """Name of the environment variable holding the signing secret; None: unsigned."""
    signature_header: str = SIGNATURE_HEADER
    timeout_seconds: float = Field(default=DEFAULT_CHANNEL_TIMEOUT, gt=0)

    @model_validator(mode="after")
    def _has_target(self) -> WebhookChannel:
        if self.enabled and not (self.url or self.url_env):
            raise ValueError("the webhook channel is enabled but has neither url nor url_env")
        return self


class NotificationSettings(BaseModel):
    """Which channels hear notifications, how hard delivery tries, and storm protection."""

    model_config = ConfigDict(extra="forbid")

    console: ConsoleChannel = Field(default_factory=ConsoleChannel)
    log: LogChannel = Field(default_factory=LogChannel)
    email: EmailChannel = Field(default_factory=EmailChannel)
    slack: SlackChannel = Field(default_factory=SlackChannel)
    webhook: WebhookChannel = Field(default_factory=WebhookChannel)
    cooldown_seconds: float = Field(default=DEFAULT_COOLDOWN_SECONDS, ge=0)
    """0 disables suppression of identical notifications."""
    alert_min_priority: Priority = Priority.ERROR
    """A delivered notification at or above this marks its source as alerting."""
    attempts: int = Field(default=DEFAULT_ATTEMPTS, ge=1, le=10)
    retry_initial_seconds: float = Field(default=1.0, ge=0, le=10)
    retry_backoff: float = Field(default=2.0, ge=1, le=10)
    state_path: Path | None = None
    """SQLite file of cooldown and alert state; None means ``<data_dir>/notifications.db``."""

    @model_validator(mode="after")
    def _fits_the_activity_timeout(self) -> NotificationSettings:
        worst = self.worst_case_seconds
        if worst > MAX_DELIVERY_SECONDS:
            raise ValueError(
                f"attempts x channel timeout + backoff is {worst:.0f}s, over the "
                f"{MAX_DELIVERY_SECONDS:.0f}s a notification may take; lower attempts or timeouts"
            )
        return self

    def state_file(self, data_dir: Path) -> Path:
        """The SQLite file of cooldown and alert state."""
        return self.state_path or data_dir / STATE_FILE

    def log_file(self, data_dir: Path) -> Path:
        """The log channel's JSON lines file."""
        return self.log.path or data_dir / LOG_FILE

    @property
    def worst_case_seconds(self) -> float:
        """Longest one delivery can take: every attempt timing out, plus the waits between."""
        timeout = max(
            self.email.timeout_seconds, self.slack.timeout_seconds, self.webhook.timeout_seconds
        )
        waits = sum(
            self.retry_initial_seconds * self.retry_backoff**i for i in range(self.attempts - 1)
        )
        return self.attempts * timeout + waits
