"""MaintenanceWorkflow: vacuum, analyze, back up and prune each target inside the window."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError, TimeoutError

from taskrunner.errors import MAINTENANCE_FAILED

with workflow.unsafe.imports_passed_through():
    from taskrunner.maintenance.activities import DatabaseActivities
    from taskrunner.maintenance.models import (
        SKIP_REASON,
        MaintenanceInput,
        MaintenanceReport,
        TargetInput,
        completion_summary,
    )
    from taskrunner.notifications.models import Priority
    from taskrunner.notifications.notify import notify
    from taskrunner.policies import (
        DEFAULT_RETRY,
        MAINTENANCE_HEARTBEAT_TIMEOUT,
        MAINTENANCE_STEP_TIMEOUT,
    )

SOURCE = "maintenance"
R = TypeVar("R")
Step = Callable[[DatabaseActivities, TargetInput], Coroutine[Any, Any, R]]


@workflow.defn
class MaintenanceWorkflow:
    @workflow.run
    async def run(self, params: MaintenanceInput) -> MaintenanceReport:
        started = workflow.now()
        local = params.local_time(params.as_of or started)
        window_open = params.is_window_open_at(local)
        report = MaintenanceReport(
            status="skipped",
            forced=params.force,
            window_open=window_open,
            window=params.window,
            timezone=params.timezone,
            local_time=local.isoformat(),
        )
        # A closed window is a normal outcome, not a failure.
        if not window_open and not params.force:
            workflow.logger.info("⏰ %s", SKIP_REASON)
            report.reason = SKIP_REASON
            return report
        workflow.logger.info(
            "✓ Maintenance window is open" if window_open else "Maintenance forced outside window"
        )
        try:
            await notify("Starting scheduled maintenance", Priority.INFO, SOURCE)
            for name in params.targets:
                report.vacuum.append(await self._step(DatabaseActivities.vacuum_database, name))
            for name in params.targets:
                report.analyze.append(await self._step(DatabaseActivities.analyze_database, name))
            for name in params.targets:
                report.backups.append(await self._step(DatabaseActivities.backup_database, name))
                # Only after a good backup: a failing backup never costs an old one.
                report.pruned.append(await self._step(DatabaseActivities.prune_backups, name))
        except ActivityError as err:
            message = failure_message(err)
            await notify(f"Maintenance failed: {message}", Priority.ERROR, SOURCE)
            cause = err.cause
            error_type = cause.type if isinstance(cause, ApplicationError) else None
            raise ApplicationError(
                message, type=error_type or MAINTENANCE_FAILED, non_retryable=True
            ) from err
        report.status = "completed"
        report.summary = summary_with_retention(report)
        await notify(report.summary, Priority.SUCCESS, SOURCE)
        report.duration_seconds = (workflow.now() - started).total_seconds()
        return report

    async def _step(self, activity: Step[R], target: str) -> R:
        return await workflow.execute_activity_method(
            activity,
            TargetInput(target=target),
            start_to_close_timeout=MAINTENANCE_STEP_TIMEOUT,
            heartbeat_timeout=MAINTENANCE_HEARTBEAT_TIMEOUT,
            retry_policy=DEFAULT_RETRY,
        )


def failure_message(err: ActivityError) -> str:
    """The underlying cause's words (what went wrong in the database), not the wrapper's."""
    cause = err.cause
    if isinstance(cause, TimeoutError):
        return f"{err.activity_type} timed out ({cause.type.name if cause.type else 'timeout'})"
    return cause.message if isinstance(cause, FailureError) and cause.message else str(err)


def summary_with_retention(report: MaintenanceReport) -> str:
    """The completion summary, plus a line when retention removed old backups."""
    removed = sum(len(p.removed) for p in report.pruned)
    summary = completion_summary(report.vacuum, report.analyze, report.backups)
    if removed:
        summary += f"\n- Retention: {removed} old backup(s) removed"
    return summary
