"""Attempts that outlive the queue run that started them.

A queue continues as new without waiting for long attempts: waiting would idle
every other slot and let history grow for as long as the longest task runs. An
attempt is *detachable* once it has run ``DETACH_AFTER``. A detachable attempt
always completes by its task token from the worker (see handover.py); when that
run has ended, the worker reports the outcome to the queue's current run with the
``report_attempt`` update instead. The next run adopts the attempt as running and
gives it a lease: no outcome by its start-to-close timeout (plus a grace) counts as
a failed attempt, retried by the task's policy, so a lost worker loses no task.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel

from taskrunner.tasks.registry import TaskResult

DETACH_AFTER = timedelta(seconds=2)
"""How long an attempt runs before a continue-as-new stops waiting for it."""
CLOCK_MARGIN = timedelta(seconds=1)
"""Allowed skew between a worker's clock and the server's: the worker treats an attempt as
detachable this much early, the queue this much late."""
LEASE_GRACE = timedelta(seconds=30)
"""Beyond its start-to-close timeout, how long an adopted attempt may take to report."""
LOST_ATTEMPT = "AttemptLost"
"""Error type of an adopted attempt whose outcome never came (its worker was lost)."""
ATTEMPT_TIMEOUT = "AttemptTimeout"
"""Error type of a task in a bundled call that ran out of its type's timeout (retryable)."""


class AttemptFailure(BaseModel):
    """How one attempt failed, as the retry policy judges it."""

    message: str
    type: str | None = None
    non_retryable: bool = False
    next_retry_delay: timedelta | None = None


class AttemptReport(BaseModel):
    """The outcome of an attempt whose starting run had ended, sent by its worker."""

    task_id: str
    attempt: int
    """The task's attempt count when this attempt started (``TaskRecord.attempts``)."""
    result: TaskResult | None = None
    failure: AttemptFailure | None = None
