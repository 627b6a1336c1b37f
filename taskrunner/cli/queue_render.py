"""Readable tables for queue stats, task listings, one task, and drain outcomes."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TextIO
from zoneinfo import ZoneInfo

from taskrunner.queue.models import (
    DrainResult,
    QueueStats,
    TaskOutcome,
    TaskRecord,
    TaskStatus,
)

STATUSES = [s.value for s in TaskStatus]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Left-aligned text columns; numbers right-aligned."""
    cells = [[str(c) for c in headers], *[[_cell(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [
        bool(rows) and all(isinstance(row[i], int) for row in rows) for i in range(len(headers))
    ]
    lines = []
    for r in cells:
        parts = [
            c.rjust(w) if numeric[i] else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def render_stats(stats: QueueStats) -> str:
    state = "paused" if stats.paused else "processing"
    head = f"Queue {stats.queue} ({state}, run {stats.run_number})"
    counts = table(
        ["STATUS", "TASKS"],
        [[s, getattr(stats, s)] for s in STATUSES] + [["total", stats.total]],
    )
    lines = [head, counts, f"enqueued {stats.enqueued}, purged {stats.purged}"]
    if stats.by_type:
        rows = [[name, *(getattr(c, s) for s in STATUSES)] for name, c in stats.by_type.items()]
        lines += ["", table(["TYPE", *(s.upper() for s in STATUSES)], rows)]
    return "\n".join(lines)


def render_tasks(records: Sequence[TaskRecord]) -> str:
    if not records:
        return "No tasks."
    rows = [
        [
            r.id,
            r.type,
            r.status.value,
            r.spec.priority,
            r.attempts,
            r.enqueued_at,
            _short(r.last_error if r.status == TaskStatus.FAILED else _summary(r)),
        ]
        for r in records
    ]
    return table(["ID", "TYPE", "STATUS", "PRIORITY", "ATTEMPTS", "ENQUEUED (UTC)", "RESULT"], rows)


def render_record(r: TaskRecord, zone: ZoneInfo) -> str:
    """One task in full; its times in ``zone`` (the settings' timezone), with the zone's name."""
    fields: list[tuple[str, object]] = [
        ("id", r.id),
        ("type", r.type),
        ("status", r.status.value),
        ("priority", r.spec.priority),
        ("attempts", r.attempts),
        ("key", r.spec.key),
        ("run at", _zoned(r.due_at, zone)),
        ("enqueued", _zoned(r.enqueued_at, zone)),
        ("started", _zoned(r.started_at, zone)),
        ("finished", _zoned(r.finished_at, zone)),
        ("result", _summary(r)),
        ("error", r.last_error),
        ("payload", json.dumps(r.spec.payload, sort_keys=True)),
    ]
    if r.result is not None and r.result.details:
        fields.append(("details", json.dumps(r.result.details, sort_keys=True, default=str)))
    width = max(len(name) for name, _ in fields)
    return "\n".join(f"{name + ':':<{width + 1}} {_cell(value)}" for name, value in fields)


def _zoned(value: datetime | None, zone: ZoneInfo) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def _summary(r: TaskRecord) -> str | None:
    return r.result.summary if r.result is not None else None


def outcome_lines(outcomes: Sequence[TaskOutcome]) -> list[str]:
    """Per-task lines: each attempt, then how the task ended."""
    lines = []
    for o in outcomes:
        for attempt in range(1, max(o.attempts, 1) + 1):
            lines.append(f"Processing task {o.task_id} ({o.type}) - Attempt {attempt}")
        if o.status == TaskStatus.COMPLETED:
            if o.summary:
                lines.append(f"  {o.summary}")
            lines.append(f"✓ Task {o.task_id} completed")
        else:
            lines.append(f"✗ Task {o.task_id} {o.status.value}: {o.error or '-'}")
    return lines


def render_drain(result: DrainResult) -> str:
    processed = result.processed
    lines = outcome_lines(result.outcomes)
    if processed > len(result.outcomes):
        lines.append(f"... and {processed - len(result.outcomes)} more")
    lines.append(f"Task processing complete: {processed} tasks processed")
    lines.append(
        f"{result.completed} succeeded, {result.failed} failed, {result.cancelled} cancelled"
    )
    if result.scheduled:
        lines.append(
            f"{result.scheduled} task(s) wait for a later time (run_at or a retry backoff); "
            "the queue runs them when due"
        )
    if result.paused:
        lines.append("The queue is paused: resume it to process the rest.")
    return "\n".join(lines)


def progress_line(result: DrainResult) -> str:
    return (
        f"draining: {result.processed} finished ({result.completed} ok, {result.failed} failed), "
        f"{result.waiting} due or running, {result.scheduled} scheduled later"
    )


class DrainProgress:
    """A drain's progress: one line rewritten in place on a terminal; elsewhere (a log, a
    pipe) a line per change, at most one every ``every`` seconds."""

    def __init__(self, out: TextIO, every: float = 2.0) -> None:
        self._out, self._every = out, every
        self._tty = out.isatty()
        self._last = float("-inf")
        self._shown = False

    def __call__(self, result: DrainResult) -> None:
        if self._tty:
            self._out.write("\r\x1b[K" + progress_line(result))
            self._shown = True
        else:
            now = time.monotonic()
            if now - self._last < self._every:
                return
            self._last = now
            self._out.write(progress_line(result) + "\n")
        self._out.flush()

    def end(self) -> None:
        """Clear the in-place line before anything else is printed."""
        if self._shown:
            self._out.write("\r\x1b[K")
            self._out.flush()
            self._shown = False


def _short(text: str | None, limit: int = 60) -> str | None:
    if text is None:
        return None
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
