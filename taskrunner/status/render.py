"""``taskrunner status`` as text: one screen, a section per part, aligned columns.

Times are shown in the settings' time zone, named once in the first line.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from taskrunner.events import first_line
from taskrunner.maintenance.models import TargetOutcome
from taskrunner.status.models import AlertFact, QueueFact, ScheduleFact, Status

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
LABEL_WIDTH = 12
"""Width of a section's label column (``Maintenance``)."""
INDENT = "  "
MESSAGE_LIMIT = 60
"""Longest message or error shown in a table cell (the JSON form has them whole)."""


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Left-aligned text columns, numbers right-aligned; indented under their section."""
    cells = [list(headers), *[[_cell(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) for row in rows)
        for i in range(len(headers))
    ]
    lines = []
    for r in cells:
        parts = [
            c.rjust(w) if numeric[i] else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append((INDENT + "  ".join(parts)).rstrip())
    return lines


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _short(text: str | None) -> str | None:
    return None if text is None else first_line(text, limit=MESSAGE_LIMIT)


def _label(name: str, text: str) -> str:
    return f"{name:<{LABEL_WIDTH}} {text}".rstrip()


class Renderer:
    """Renders one :class:`Status`, its times in ``zone``."""

    def __init__(self, status: Status, zone: ZoneInfo) -> None:
        self.status = status
        self.zone = zone

    def when(self, value: datetime | None) -> str | None:
        return value.astimezone(self.zone).strftime(TIME_FORMAT) if value else None

    def render(self) -> str:
        s = self.status
        head = f"taskrunner status at {self.when(s.collected_at)} ({self.zone.key})"
        sections = [[head], self.server()]
        if s.server.reachable:
            sections += [self.workers(), self.queues(), self.schedules(), self.health()]
        sections.append(self.alerts())  # read on this machine: known without a server
        if s.server.reachable:
            sections.append(self.maintenance())
        return "\n\n".join("\n".join(lines) for lines in sections)

    def server(self) -> list[str]:
        server = self.status.server
        where = f"{server.address}, namespace {server.namespace}"
        if server.reachable:
            return [_label("Server", f"{where}: reachable")]
        return [_label("Server", f"{where}: UNREACHABLE"), INDENT + (server.error or "")]

    def _failed(self, part: str, label: str) -> list[str] | None:
        error = self.status.errors.get(part)
        return [_label(label, f"unknown: {error}")] if error else None

    def workers(self) -> list[str]:
        failed = self._failed("workers", "Workers")
        if failed:
            return failed
        workers = self.status.workers
        queue = self.status.task_queue
        if not workers:
            return [_label("Workers", f"NONE poll task queue {queue} (start taskrunner run)")]
        rows = [[w.identity, ", ".join(w.polls), self.when(w.last_seen)] for w in workers]
        return [
            _label("Workers", f"{len(workers)} polling task queue {queue}"),
            *table(["IDENTITY", "POLLS", "LAST SEEN"], rows),
        ]

    def queues(self) -> list[str]:
        failed = self._failed("queues", "Queues")
        if failed:
            return failed
        queues = self.status.queues
        window = queues[0].rate_window_minutes if queues else 5
        rows = [self._queue_row(q) for q in queues]
        headers = ["QUEUE", "STATE", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED"]
        headers.append(f"DONE/MIN ({window} MIN)")
        lines = [_label("Queues", f"{len(queues)}"), *table(headers, rows)]
        lines += [f"{INDENT}{q.name}: {q.error}" for q in queues if q.error]
        return lines

    @staticmethod
    def _queue_row(q: QueueFact) -> list[object]:
        if q.stats is None:
            return [q.name, "unknown", None, None, None, None, None, None]
        st = q.stats
        state = "paused" if st.paused else "processing"
        counts = [st.pending, st.running, st.completed, st.failed, st.cancelled]
        return [q.name, state, *counts, q.completed_per_minute]

    def schedules(self) -> list[str]:
        lines = [_label("Schedules", f"{len(self.status.schedules)}")]
        rows = [self._schedule_row(f) for f in self.status.schedules]
        if rows:
            headers = ["NAME", "KIND", "STATE", "LAST RUN", "RESULT", "NEXT RUN"]
            lines += table(headers, rows)
        for part in ("schedules", "jobs"):
            if part in self.status.errors:
                lines.append(f"{INDENT}{part} unknown: {self.status.errors[part]}")
        lines += [f"{INDENT}{f.name}: {f.error}" for f in self.status.schedules if f.error]
        return lines

    def _schedule_row(self, f: ScheduleFact) -> list[object]:
        state = "not applied" if f.error else ("paused" if f.paused else "active")
        return [f.name, f.kind, state, self.when(f.last_run), f.last_result, self.when(f.next_run)]

    def health(self) -> list[str]:
        failed = self._failed("health", "Health")
        if failed:
            return failed
        report = self.status.health
        if report is None:
            return [_label("Health", "no health monitor run has completed yet")]
        problems = report.problems()
        verdict = "UNHEALTHY: " + "; ".join(problems) if problems else "healthy"
        m = report.metrics
        up = sum(1 for s in report.services if s.up)
        services = f"services {up}/{len(report.services)} up" if report.services else "no probes"
        metrics = (
            f"cpu {m.cpu.value:.1f}%, memory {m.memory.value:.1f}%, disk {m.disk.value:.1f}%; "
            + services
        )
        return [
            _label("Health", f"{verdict} (checked {self.when(self.status.health_at)})"),
            _label("", metrics),
        ]

    def alerts(self) -> list[str]:
        failed = self._failed("alerts", "Alerts")
        if failed:
            return failed
        alerts = self.status.alerts
        if alerts is None:
            return [_label("Alerts", "no alert state on this machine (the workers keep it)")]
        if not alerts:
            return [_label("Alerts", "none open")]
        rows = [[_alert_name(a), a.priority, self.when(a.since), _short(a.message)] for a in alerts]
        return [
            _label("Alerts", f"{len(alerts)} open"),
            *table(["SOURCE", "PRIORITY", "SINCE", "MESSAGE"], rows),
        ]

    def maintenance(self) -> list[str]:
        failed = self._failed("maintenance", "Maintenance")
        if failed:
            return failed
        facts = self.status.maintenance
        if not facts:
            return [_label("Maintenance", "no maintenance run has completed yet")]
        rows = [
            [
                f.outcome.target,
                f.outcome.status,
                self.when(f.finished_at),
                _short(_detail(f.outcome)),
            ]
            for f in facts
        ]
        return [
            _label("Maintenance", "last run per target"),
            *table(["TARGET", "STATUS", "FINISHED", "DETAIL"], rows),
        ]


def _alert_name(alert: AlertFact) -> str:
    return f"{alert.source}/{alert.alert}" if alert.alert else alert.source


def _detail(outcome: TargetOutcome) -> str | None:
    """Why a target failed (and at which step), or what was absent."""
    if outcome.step is not None:
        return f"{outcome.step}: {outcome.error}"
    return outcome.error


def render_status(status: Status, zone: ZoneInfo) -> str:
    """The whole screen."""
    return Renderer(status, zone).render()
