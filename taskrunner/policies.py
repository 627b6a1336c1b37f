"""Retry policies and timeouts shared by workflows (one constant, reused)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

from taskrunner.errors import NEVER_RETRIED

DEFAULT_ATTEMPTS = 3
"""Attempts before a step is given up (three, as Celery and most job runners default to)."""

DEFAULT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=DEFAULT_ATTEMPTS,
    non_retryable_error_types=list(NEVER_RETRIED),
)
"""Exponential backoff, 3 attempts, bad data never retried."""

NOTIFY_TIMEOUT = timedelta(seconds=60)
"""Start-to-close of one send_notification attempt (it tries every channel)."""
NOTIFY_HEARTBEAT_TIMEOUT = timedelta(seconds=10)
"""A send_notification attempt silent this long (its worker died) is retried, not after 60 s."""
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=DEFAULT_ATTEMPTS,
)
"""Retries an attempt that was lost (its worker died, it timed out). Channel failures are
retried inside the activity and never raise; a retry resumes the lost attempt's page and
skips the channels that confirmed it (at-least-once per channel)."""

PROBE_TIMEOUT = timedelta(seconds=120)
"""Upper bound of one health activity (each probe also has its own timeout)."""

MAINTENANCE_STEP_TIMEOUT = timedelta(hours=2)
"""Start-to-close of one vacuum, analyze or backup attempt on one database."""
MAINTENANCE_INSPECT_TIMEOUT = timedelta(minutes=1)
"""Start-to-close of the quick look at whether a target has a database yet."""
MAINTENANCE_HEARTBEAT_TIMEOUT = timedelta(minutes=1)
"""A maintenance step that stops heartbeating this long is presumed dead and retried."""
