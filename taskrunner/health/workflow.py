"""HealthMonitorWorkflow: system metrics and service probes; one alert while unhealthy."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from taskrunner.health.activities import MonitoringActivities
    from taskrunner.health.models import (
        HealthCheckInput,
        HealthReport,
        ServiceReport,
        ServiceStatus,
        SystemMetrics,
    )
    from taskrunner.notifications.models import Priority
    from taskrunner.notifications.notify import (
        notify,
        notify_resolved,
    )
    from taskrunner.policies import DEFAULT_RETRY, PROBE_TIMEOUT

SOURCE = "health-monitor"
ALERT = "system-health"
"""The monitor's one alert. With SOURCE it is the alert's identity: what is breached or
down, and by how much, are its details, so a metric flapping across its threshold
while another stays breached updates the open alert instead of paging again."""
RESOLVED_MESSAGE = "Resolved: all systems nominal again"


@workflow.defn
class HealthMonitorWorkflow:
    @workflow.run
    async def run(self, params: HealthCheckInput) -> HealthReport:
        metrics = await workflow.execute_activity_method(
            MonitoringActivities.collect_system_metrics,
            start_to_close_timeout=PROBE_TIMEOUT,
            retry_policy=DEFAULT_RETRY,
        )
        services: ServiceReport = await workflow.execute_activity_method(
            MonitoringActivities.check_services,
            start_to_close_timeout=PROBE_TIMEOUT,
            retry_policy=DEFAULT_RETRY,
        )
        # Healthy means both: metrics under their thresholds and every service up.
        ok = healthy(metrics) and services.all_up
        workflow.logger.info("System Health: %s", "✓ Healthy" if ok else "✗ Unhealthy")

        # Alert on any breach or any service down; the activity decides whether it pages.
        message = None
        sent = False
        if not ok:
            message = alert_message(metrics, services.down())
            if params.notify:
                severity = alert_severity(metrics, services.down())
                sent = await notify(message, severity, SOURCE, alert=ALERT)
        else:
            workflow.logger.info("✓ All systems nominal")
            if params.notify:
                # Sent only if the last alert is unresolved (the activity keeps that state).
                await notify_resolved(SOURCE, RESOLVED_MESSAGE)
        return HealthReport(
            healthy=healthy(metrics),
            all_up=services.all_up,
            metrics=metrics,
            services=services.services,
            alerted=message is not None,
            alert_message=message,
            alert_sent=sent,
            checked_at=workflow.now().isoformat(),
        )


def healthy(metrics: SystemMetrics) -> bool:
    return not metrics.breaches()


def alert_message(metrics: SystemMetrics, down: list[ServiceStatus]) -> str:
    """The alert text: metrics above threshold with values, then services down."""
    lines = ["System health alert:"]
    breaches = metrics.breaches()
    if breaches:
        lines.append("- System metrics above threshold")
        lines += [f"  {m.name}: {m.breach_text()}" for m in breaches]
    if down:
        lines.append("- Some services are down:")
        lines += [f"  {s.name}: DOWN ({s.detail})" for s in down]
    return "\n".join(lines)


def alert_severity(metrics: SystemMetrics, down: list[ServiceStatus]) -> Priority:
    """``critical`` when a service is down or a metric is at its critical threshold.

    Otherwise (metrics over their thresholds only) ``error``: the machine is strained
    but serving. A rise from error to critical pages again; a fall does not.
    """
    if down or any(m.critical for m in metrics.breaches()):
        return Priority.CRITICAL
    return Priority.ERROR
