"""``taskrunner health``: run the health monitor once and print its report."""

from __future__ import annotations

import argparse
import uuid

from taskrunner.cli.session import temporal_session
from taskrunner.health.models import (
    HealthCheckInput,
    HealthReport,
    health_workflow_id,
)
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
    from taskrunner.health.workflow import HealthMonitorWorkflow

    async with temporal_session(settings) as session:
        report = await session.client.execute_workflow(
            HealthMonitorWorkflow.run,
            HealthCheckInput(notify=not args.no_notify),
            id=health_workflow_id(f"manual-{uuid.uuid4().hex[:8]}"),
            task_queue=settings.task_queue,
        )
    print(render_health(report))
    return 0 if report.healthy and report.all_up else 1


def render_health(report: HealthReport) -> str:
    """The health report, from real measurements."""
    m = report.metrics
    response = f"{m.response_time_ms:.1f}" if m.response_time_ms is not None else "n/a"
    lines = [
        f"System Health: {'✓ Healthy' if report.healthy else '✗ Unhealthy'}",
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
    if report.alerted:
        lines.append("✗ Alert sent:" if report.alert_message else "✗ Alert")
        lines += [f"  {line}" for line in (report.alert_message or "").splitlines()]
    else:
        lines.append("✓ All systems nominal")
    return "\n".join(lines)
