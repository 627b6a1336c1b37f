"""A fire's idempotency key: the job's name and the fire's slot (deterministic).

Every fire of a schedule carries its nominal time (the ``TemporalScheduledStartTime``
search attribute, jitter excluded), the same on every start of that fire, so a retried
start or a retried enqueue makes the same key and the queue keeps one task for it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from taskrunner.jobs.models import DailySlot, JobFire


def task_key(fire: JobFire, fire_time: datetime) -> str:
    """``job:<name>@<UTC time>``, or ``job:<name>@<local date>`` for a daily slot."""
    day = local_day(fire.daily, fire_time) if fire.daily is not None else None
    if day is not None:
        return f"{fire.key_prefix}@{day.isoformat()}"
    return f"{fire.key_prefix}@{utc_text(fire_time)}"


def utc_text(when: datetime) -> str:
    """``2026-03-29T01:30:00Z`` (fractions of a second only when there are some)."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def local_day(slot: DailySlot, fire_time: datetime) -> date | None:
    """The local day a fire at the slot's time (or its backup's) belongs to; None for
    any other time (a manual trigger, which gets a task of its own)."""
    local = fire_time.astimezone(ZoneInfo(slot.timezone))
    wall = local.time().replace(tzinfo=None)
    if wall == slot.at:
        return local.date()
    if slot.backup is not None and wall == slot.backup:
        # The backup of a 23:xx job fires at 00:xx: it belongs to the day before.
        return (local - timedelta(days=1)).date() if slot.backup < slot.at else local.date()
    return None
