"""Errors: the ones a user can cause and fix, and every activity error type by name.

User errors carry one line saying what was wrong and what to do; the CLI prints
that line, never a traceback. Activity errors are ``ApplicationError``s whose
``type`` is one of the constants below: retry policies list the non-retryable
ones by these names, so each name is written exactly once, here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from temporalio.exceptions import ApplicationError


class UserError(Exception):
    """A problem in the user's input or environment, shown as one line (never a traceback)."""


class ConfigError(UserError):
    """A setting has an invalid value."""


class ServerUnreachableError(UserError):
    """The Temporal server could not be reached."""


RETRYABLE_HTTP_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
"""HTTP statuses that say "try again later"; any other error status is final (a 4xx
refusal or 501 Not Implemented will answer the same to every retry)."""


# -- activity and update error types -------------------------------------------

INVALID_TASK = "InvalidTask"
"""The queue refused a request (unknown type, bad payload, full queue): an update rejection."""
INVALID_TASK_DATA = "InvalidTaskData"
"""A task's data cannot work (bad record, refused recipient): never retried."""
CONFIGURATION_ERROR = "ConfigurationError"
"""The worker's setup is wrong (missing file, bad query, no password): never retried."""
DATABASE_UNAVAILABLE = "DatabaseUnavailable"
"""The database did not answer or was locked: retried."""
SOURCE_UNAVAILABLE = "SourceUnavailable"
"""A dataSync source did not answer or said "later": retried."""
SMTP_UNAVAILABLE = "SmtpUnavailable"
"""The SMTP server could not be reached: retried."""
SMTP_DEFERRED = "SmtpDeferred"
"""The SMTP server answered with a temporary (4xx) refusal: retried."""
EMAIL_REJECTED = "EmailRejected"
"""The SMTP server refused the message for good (5xx): never retried."""
BACKUP_FOLDER_ERROR = "BackupFolderError"
"""The backup folder cannot be created: retried (a disk may be mounted later)."""
MAINTENANCE_FAILED = "MaintenanceFailed"
"""A maintenance step failed for a reason without a type of its own."""

NEVER_RETRIED = (INVALID_TASK_DATA, CONFIGURATION_ERROR)
"""Error types no retry can fix; every retry policy lists them as non-retryable."""


def invalid_task_data(message: str) -> ApplicationError:
    """A non-retryable error for task data that no retry can fix."""
    return ApplicationError(message, type=INVALID_TASK_DATA, non_retryable=True)


def configuration_error(message: str) -> ApplicationError:
    """A non-retryable error: the setup is wrong, trying again will not help."""
    return ApplicationError(message, type=CONFIGURATION_ERROR, non_retryable=True)


def rejected(message: str) -> ApplicationError:
    """An update validator's rejection of a request (shown to the caller as one line)."""
    return ApplicationError(message, type=INVALID_TASK, non_retryable=True)


# -- pydantic errors as one line -------------------------------------------------

EXTRA_KEY = "extra_forbidden"
"""pydantic's error type for a key the model does not have."""


def field_path(loc: Sequence[str | int]) -> str:
    """``("a", 0, "b")`` -> ``a.0.b``; a part that would break the line is quoted."""
    return ".".join(str(p) if str(p).isprintable() else repr(str(p)) for p in loc)


def pydantic_message(problem: ErrorDetails) -> str:
    """What pydantic says about one problem."""
    return problem["msg"]


def one_line(
    err: ValidationError,
    name: Callable[[Sequence[str | int]], str] = field_path,
    *,
    first_only: bool = False,
    show_input: bool = False,
    why: Callable[[ErrorDetails], str] = pydantic_message,
) -> str:
    """A pydantic ``ValidationError`` as one line: ``field: why; field: why``.

    Args:
        err: The error.
        name: Turns an error location into the name the user knows the field by
            (a dotted path by default; settings name their environment variable).
        first_only: Say only the first problem, then how many more there are.
        show_input: Add the offending value (scalars only) after the field name;
            never for an unknown key, whose value says nothing and may be a secret.
        why: Says what is wrong with one problem (pydantic's message by default).
    """
    problems = err.errors()
    shown = problems[:1] if first_only else problems
    parts = []
    for problem in shown:
        where = name(problem["loc"]) or "value"
        value: Any = problem.get("input")
        unknown_key = problem["type"] == EXTRA_KEY
        got = f" (got {value!r})" if show_input and not unknown_key and _scalar(value) else ""
        parts.append(f"{where}{got}: {why(problem)}")
    more = len(problems) - len(shown)
    return "; ".join(parts) + (f"; and {more} more problem(s)" if more else "")


def _scalar(value: Any) -> bool:
    return value is not None and not isinstance(value, dict | list)
