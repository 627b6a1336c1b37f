"""Five-field cron expressions, checked here before anything reaches the server.

Validating locally gives the user one clear line (which field, which value)
instead of a server error. The expression itself is sent to Temporal as is, so
its own cron semantics apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

MACROS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


class CronError(ValueError):
    """An invalid cron expression; the message names the field and the problem."""


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_start: int = 0


FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, MONTHS, 1),
    _Field("day of week", 0, 7, WEEKDAYS, 0),  # 0 and 7 are both Sunday
)


def validate_cron(expression: str) -> str:
    """Return the five-field form of ``expression`` (macros expanded) or raise CronError."""
    text = MACROS.get(expression.strip().lower(), expression.strip())
    parts = text.split()
    if len(parts) != len(FIELDS):
        raise CronError(
            f"invalid cron {expression!r}: expected 5 fields "
            f"(minute hour day-of-month month day-of-week), got {len(parts)}"
        )
    for part, field in zip(parts, FIELDS, strict=True):
        for item in part.split(","):
            _check_item(item, field, expression)
    return " ".join(parts)


def _check_item(item: str, field: _Field, expression: str) -> None:
    def fail(why: str) -> CronError:
        return CronError(f"invalid cron {expression!r}: {field.name} {item!r} {why}")

    base, slash, step = item.partition("/")
    if slash and (not step.isdigit() or int(step) == 0):
        raise fail("has a step that is not a positive number")
    if base == "*":
        return
    low, dash, high = base.partition("-")
    start = _value(low, field, fail)
    if dash and _value(high, field, fail) < start:
        raise fail("is a range that runs backwards")


def _value(text: str, field: _Field, fail: Callable[[str], CronError]) -> int:
    if text.lower() in field.names:
        return field.names.index(text.lower()) + field.names_start
    if not text.isdigit():
        raise fail(f"is not a number between {field.low} and {field.high}")
    if not field.low <= int(text) <= field.high:
        raise fail(f"is out of range {field.low}-{field.high}")
    return int(text)
