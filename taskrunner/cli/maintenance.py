"""``taskrunner maintenance``: run the maintenance workflow once and print its report."""

from __future__ import annotations

import argparse
import logging
import sys
import uuid

from temporalio.client import WorkflowFailureError

from taskrunner.cli.session import temporal_session
from taskrunner.maintenance.models import (
    MaintenanceReport,
    maintenance_input,
    maintenance_workflow_id,
)
from taskrunner.maintenance.summary import outcome_line
from taskrunner.settings import Settings
from taskrunner.sizes import human_size


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "maintenance",
        help="run database maintenance once (vacuum, analyze, backup) and print the report",
        description="Run MaintenanceWorkflow once on the configured targets "
        "(maintenance.targets, or the application database). Outside the maintenance "
        "window it is skipped unless --force is given. Exits 1 when a step failed.",
    )
    parser.add_argument(
        "--force", action="store_true", help="run even outside the maintenance window"
    )
    parser.set_defaults(handler=maintenance_command)


async def maintenance_command(args: argparse.Namespace, settings: Settings) -> int:
    from taskrunner.maintenance.workflow import MaintenanceWorkflow

    params = maintenance_input(settings, force=args.force)
    if not args.verbose:
        # The report names what failed; each attempt's traceback is for -v (and workers).
        logging.getLogger("temporalio.activity").setLevel(logging.ERROR)
    # Said at once: a maintenance run (vacuum, backup) may take minutes.
    forced = ", forced" if args.force else ""
    print(
        f"Running maintenance (window {params.window} {params.timezone}{forced}, "
        f"targets {', '.join(params.targets)})...",
        flush=True,
    )
    async with temporal_session(settings) as session:
        try:
            report = await session.client.execute_workflow(
                MaintenanceWorkflow.run,
                params,
                id=maintenance_workflow_id(f"manual-{uuid.uuid4().hex[:8]}"),
                task_queue=session.settings.task_queue,
            )
        except WorkflowFailureError as err:
            cause = err.cause
            message = getattr(cause, "message", None) or str(cause)
            sys.stderr.write(f"✗ Maintenance failed: {message}\n")
            return 1
    print(render_maintenance(report))
    return 1 if report.status == "partial" else 0


def render_maintenance(report: MaintenanceReport) -> str:
    """The window line, then each step with its real numbers, then each target not maintained."""
    where = f"(window {report.window} {report.timezone}, local time {report.local_time[11:16]})"
    if report.status == "skipped":
        return f"⏰ {report.reason} {where}; use --force to run now"
    if report.window_open:
        lines = [f"✓ Maintenance window is open {where}"]
    else:
        lines = [f"⏰ Outside maintenance window - running anyway (--force) {where}"]
    for v in report.vacuum:
        lines.append(
            f"Vacuum   {v.target}: {human_size(v.freed_bytes)} freed "
            f"({human_size(v.size_before)} -> {human_size(v.size_after)}) in {v.duration_seconds:.2f} s"
        )
    for a in report.analyze:
        lines.append(f"Analyze  {a.target}: {a.tables} tables in {a.duration_seconds:.2f} s")
    for b in report.backups:
        lines.append(
            f"Backup   {b.target}: {human_size(b.size_bytes)} ({b.file}), {b.tables} tables, "
            f"{b.verification}, in {b.duration_seconds:.2f} s"
        )
    for p in report.pruned:
        removed = ", ".join(p.removed) if p.removed else "none"
        lines.append(f"Retention {p.target}: kept {len(p.kept)}, removed {removed}")
    # Targets that failed or had nothing to maintain yet; the others are named above.
    lines += [f"Target   {outcome_line(t)}" for t in report.targets if t.status != "completed"]
    lines.append(report.summary or "")
    return "\n".join(lines)
