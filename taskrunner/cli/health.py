"""``taskrunner health``: run the health monitor once and print its report."""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Sequence

from taskrunner.cli.session import temporal_session
from taskrunner.health.models import (
    HealthCheckInput,
    HealthReport,
    health_workflow_id,
)
from taskrunner.notifications.channels.console import hold_console
from taskrunner.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "health",
        help="run the health monitor once and print its report (exit 1 when unhealthy)",
        description="Run HealthMonitorWorkflow once (metrics + service probes from settings) "
        "and print the report. Exits 0 when healthy and all services are up, 1 otherwise.",
    )
    parser.add_argument(
        "--no-notify", action="store_true", help="do not send the critical alert when unhealthy"
    )
    parser.set_defaults(handler=health_command)


async def health_command(args: argparse.Namespace, settings: Settings) -> int:
    from taskrunner.health.workflow import SOURCE

    # The console channel's alert is printed once, in the report, not ahead of it.
    with hold_console() as console:
        report = await _check(args, settings)
        print(render_health(report, console.take(SOURCE)))
    return 0 if report.healthy and report.all_up else 1


async def _check(args: argparse.Namespace, settings: Settings) -> HealthReport:
    from taskrunner.health.workflow import HealthMonitorWorkflow

    async with temporal_session(settings) as session:
        report = await session.client.execute_workflow(
            HealthMonitorWorkflow.run,
            HealthCheckInput(notify=not args.no_notify),
            id=health_workflow_id(f"manual-{uuid.uuid4().hex[:8]}"),
            task_queue=session.settings.task_queue,
        )
    return report


def render_health(report: HealthReport, console: Sequence[str] = ()) -> str:
    """The health report, from real measurements.

    Args:
        report: What the health monitor found.
        console: The console channel's lines of this run, held back by the command:
            the alert (or "resolved") as delivered there, shown in its place.
    """
    m = report.metrics
    response = f"{m.response_time_ms:.1f}" if m.response_time_ms is not None else "n/a"
    problems = report.problems()
    verdict = f"✗ Unhealthy: {', '.join(problems)}" if problems else "✓ Healthy"
    lines = [
        f"System Health: {verdict}",
        f"Metrics: {{ cpu: {m.cpu.value:.1f}, memory: {m.memory.value:.1f}, "
        f"disk: {m.disk.value:.1f}, responseTime: {response} }}",
    ]
    if m.response_error:
        lines.append(f"  API probe: {m.response_error}")
    if report.services:
        lines.append(f"Services: {'✓ All up' if report.all_up else '✗ Some down'}")
        statuses = ", ".join(f"{s.name}: '{'up' if s.up else 'down'}'" for s in report.services)
        lines.append(f"Status: {{ {statuses} }}")
        width = max(len(s.name) for s in report.services)
        for s in report.services:
            state = "up  " if s.up else "DOWN"
            lines.append(
                f"  {s.name:<{width}}  {s.kind:<8} {state} {s.latency_ms:>8.1f} ms  {s.detail}"
            )
    else:
        lines.append("Services: ✓ All up (no probes configured: see health.probes in the README)")
    message = report.alert_message or ""
    if not report.alerted:
        lines.append("✓ All systems nominal")
    elif not any(message in line for line in console):
        # The console did not show it: the report does, once.
        lines.append(
            "✗ Alert sent:"
            if report.alert_sent
            else "✗ Alert not sent (notify off, the alert already open: its details "
            "updated, or no channel delivered it):"
        )
        lines += [f"  {line}" for line in message.splitlines()]
    lines += console
    return "\n".join(lines)
