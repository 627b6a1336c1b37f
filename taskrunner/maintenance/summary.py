"""The words of a maintenance run: its notification text and its failure message.

Pure functions of the report, called by MaintenanceWorkflow (so they stay deterministic).
"""

from __future__ import annotations

from taskrunner.maintenance.models import MaintenanceReport, TargetOutcome
from taskrunner.sizes import human_size


def outcome_line(outcome: TargetOutcome) -> str:
    """``pg FAILED at vacuum: ...`` or ``app: nothing to maintain yet (...)``."""
    if outcome.status == "failed":
        return f"{outcome.target} FAILED at {outcome.step}: {outcome.error}"
    if outcome.status == "absent":
        return f"{outcome.target}: nothing to maintain yet ({outcome.error})"
    return f"{outcome.target}: completed"


def run_summary(report: MaintenanceReport) -> str:
    """The completion (or partial) notification: totals, one line per backup, every other outcome.

    A target that completed is named by its backup line; one that failed or had
    nothing to maintain gets a line of its own.
    """
    failed = [t.target for t in report.targets if t.status == "failed"]
    if failed:
        head = (
            f"Maintenance partly failed: {len(failed)} of {len(report.targets)} targets "
            f"failed ({', '.join(failed)}):"
        )
    else:
        head = "Maintenance completed:"
    lines = [head]
    if report.vacuum:
        lines.append(f"- Vacuum: {human_size(sum(v.freed_bytes for v in report.vacuum))} freed")
    if report.analyze:
        lines.append(f"- Analyze: {sum(a.tables for a in report.analyze)} tables")
    lines += [f"- Backup: {human_size(b.size_bytes)} ({b.file})" for b in report.backups]
    lines += [f"- {outcome_line(t)}" for t in report.targets if t.status != "completed"]
    removed = sum(len(p.removed) for p in report.pruned)
    if removed:
        lines.append(f"- Retention: {removed} old backup(s) removed")
    unfinished = sum(len(b.removed_partials) for b in report.backups)
    if unfinished:
        lines.append(f"- Cleanup: {unfinished} unfinished backup(s) of killed attempts removed")
    return "\n".join(lines)


def failure_text(failed: list[TargetOutcome]) -> str:
    """Why a run in which every target failed failed: the cause's own words for one target."""
    if len(failed) == 1:
        return failed[0].error or "unknown error"
    return "every target failed: " + "; ".join(f"{t.target} at {t.step}: {t.error}" for t in failed)
