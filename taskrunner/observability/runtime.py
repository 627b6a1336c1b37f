"""The worker's Temporal runtime: the SDK's telemetry, serving Prometheus metrics.

Only worker processes (``taskrunner run``, ``taskrunner worker``) build one; the short
commands use the SDK's default runtime, which binds no port. With JSON logs the SDK
core's own log lines (which it otherwise writes straight to stderr, as text) go through
Python's logging too, as ``temporalio.core.*`` records.
"""

from __future__ import annotations

import ipaddress
import logging
import socket

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
)

from taskrunner.errors import UserError
from taskrunner.observability.metrics import BUCKETS
from taskrunner.settings.observability import LogSettings, MetricsSettings

FIX = (
    "set metrics.address (TASKRUNNER_METRICS__ADDRESS) to a free host:port of this machine, "
    "or metrics.enabled = false (TASKRUNNER_METRICS__ENABLED=false)"
)
"""What to do when the address cannot be served (said with every such error)."""


CORE_LOGGER = "temporalio.core"


def worker_runtime(metrics: MetricsSettings, logs: LogSettings | None = None) -> Runtime | None:
    """A runtime serving ``/metrics`` at ``metrics.address`` (None: the SDK's default
    will do, when metrics are off and logs are text).

    Raises:
        UserError: the address cannot be bound (taken, or not this machine's).
    """
    forward = logs is not None and logs.format == "json"
    if not metrics.enabled and not forward:
        return None
    logging_config = LoggingConfig.default
    if forward:
        to_python = LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER))
        logging_config = LoggingConfig(filter=LoggingConfig.default.filter, forwarding=to_python)
    exporter = None
    if metrics.enabled:
        exporter = PrometheusConfig(
            bind_address=bind_address(metrics.address), histogram_bucket_overrides=BUCKETS
        )
    try:
        return Runtime(telemetry=TelemetryConfig(logging=logging_config, metrics=exporter))
    except ValueError as err:  # the SDK's "Failed starting Prometheus exporter: <why>"
        reason = str(err).rpartition(": ")[2] or str(err)
        if "in use" in reason.lower():
            raise UserError(
                f"metrics address {metrics.address} is already in use (another worker?); {FIX}"
            ) from None
        raise UserError(f"cannot serve metrics on {metrics.address} ({reason}); {FIX}") from None


def bind_address(address: str) -> str:
    """``address`` with its host as an IP literal (the exporter binds no host name)."""
    host, _, port = address.rpartition(":")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return address
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except OSError as err:
        raise UserError(f"cannot serve metrics on {address} ({err.strerror}); {FIX}") from None
    ip = str(found[0][4][0])
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def metrics_url(metrics: MetricsSettings) -> str | None:
    """Where the worker's metrics are scraped (None when metrics are off)."""
    return f"http://{metrics.address}/metrics" if metrics.enabled else None
