"""Settings for watching the runner: Prometheus metrics, log format, the dashboard."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_METRICS_PORT = 9464
"""Prometheus' registered default port for exporters of this kind."""

DEFAULT_DASHBOARD_PORT = 8235
"""Next to the web UI (8233) and the codec server (8234)."""


def _host_port(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not host:port, e.g. 127.0.0.1:{DEFAULT_METRICS_PORT}")
    return value


class MetricsSettings(BaseModel):
    """The ``[metrics]`` section: a Prometheus endpoint on every worker process.

    On by default, bound to loopback: a scrape from the same machine works with no
    set-up and nothing is reachable from elsewhere. Two worker processes on one machine
    need two addresses (or ``enabled = false`` on one).
    """

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    address: str = f"127.0.0.1:{DEFAULT_METRICS_PORT}"
    """host:port the worker serves ``/metrics`` on (the SDK's own and the runner's)."""

    _check_address = field_validator("address")(lambda cls, v: _host_port(v))


class LogSettings(BaseModel):
    """The ``[logs]`` section: how the worker and the runner write their log lines."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["text", "json"] = "text"
    """``json``: one JSON object per line (time, level, logger, message, and for a line
    about a task its task_id, queue, type and attempt), for a log shipper."""
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class DashboardSettings(BaseModel):
    """The ``[dashboard]`` section: the operations dashboard ``taskrunner run`` serves."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    host: str = Field(default="127.0.0.1", min_length=1)
    """Bound to loopback by default; any other address needs the token below."""
    port: int = Field(default=DEFAULT_DASHBOARD_PORT, ge=1, le=65535)
    token_env: str = "TASKRUNNER_DASHBOARD_TOKEN"
    """Environment variable holding the bearer token the dashboard requires when it
    listens beyond loopback (sent as ``Authorization: Bearer`` or a ``?token=`` link)."""
    refresh_seconds: float = Field(default=2.0, gt=0)
    """How often the pages refresh their figures (partial refresh, no full reload)."""
    temporal_ui_url: str | None = Field(default=None, pattern=r"^https?://[^/\s]+(/\S*)?$")
    """Base URL of the Temporal web UI the task pages link to, e.g.
    ``https://temporal.example.com``. Unset: the embedded server's UI
    (``http://127.0.0.1:<ui_port>``) when no TEMPORAL_ADDRESS is set, else no link."""
