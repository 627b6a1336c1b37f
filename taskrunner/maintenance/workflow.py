"""MaintenanceWorkflow: vacuum, analyze, back up and prune each target inside the window.

Targets are maintained one after the other, each on its own: a target that fails
is reported (``partial``) and the next one still runs. Only a run in which every
target failed fails the workflow.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
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
        TargetOutcome,
    )
    from taskrunner.maintenance.summary import failure_text, run_summary
    from taskrunner.notifications.models import Priority
    from taskrunner.notifications.notify import notify
    from taskrunner.observability.metrics import mark_maintained
    from taskrunner.policies import (
        DEFAULT_RETRY,
        MAINTENANCE_HEARTBEAT_TIMEOUT,
        MAINTENANCE_INSPECT_TIMEOUT,
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
        await notify("Starting scheduled maintenance", Priority.INFO, SOURCE)
        # Each target on its own: one that fails (a database down) never stops the rest.
        for name in params.targets:
            report.targets.append(await self._maintain(name, report))
        failed = [t for t in report.targets if t.status == "failed"]
        if failed and len(failed) == len(report.targets):
            message = failure_text(failed)
            await notify(f"Maintenance failed: {message}", Priority.ERROR, SOURCE)
            raise ApplicationError(
                message, type=failed[0].error_type or MAINTENANCE_FAILED, non_retryable=True
            )
        report.status = "partial" if failed else "completed"
        report.summary = run_summary(report)
        await notify(report.summary, Priority.ERROR if failed else Priority.SUCCESS, SOURCE)
        report.duration_seconds = (workflow.now() - started).total_seconds()
        return report

    async def _maintain(self, name: str, report: MaintenanceReport) -> TargetOutcome:
        """Vacuum, analyze, back up and prune one target; its first failing step ends it."""
        step = "inspect"
        try:
            found = await self._step(
                DatabaseActivities.inspect_target, name, MAINTENANCE_INSPECT_TIMEOUT
            )
            if not found.exists:
                return TargetOutcome(target=name, status="absent", error=found.detail)
            step = "vacuum"
            report.vacuum.append(await self._step(DatabaseActivities.vacuum_database, name))
            step = "analyze"
            report.analyze.append(await self._step(DatabaseActivities.analyze_database, name))
            step = "backup"
            report.backups.append(await self._step(DatabaseActivities.backup_database, name))
            # Only after a good backup: a failing backup never costs an old one.
            step = "retention"
            report.pruned.append(await self._step(DatabaseActivities.prune_backups, name))
        except ActivityError as err:
            cause = err.cause
            return TargetOutcome(
                target=name,
                status="failed",
                step=step,
                error=failure_message(err),
                error_type=cause.type if isinstance(cause, ApplicationError) else None,
            )
        mark_maintained(name)
        return TargetOutcome(target=name, status="completed")

    async def _step(
        self, activity: Step[R], target: str, limit: timedelta = MAINTENANCE_STEP_TIMEOUT
    ) -> R:
        return await workflow.execute_activity_method(
            activity,
            TargetInput(target=target),
            start_to_close_timeout=limit,
            heartbeat_timeout=MAINTENANCE_HEARTBEAT_TIMEOUT,
            retry_policy=DEFAULT_RETRY,
        )


def failure_message(err: ActivityError) -> str:
    """The underlying cause's words (what went wrong in the database), not the wrapper's."""
    cause = err.cause
    if isinstance(cause, TimeoutError):
        return f"{err.activity_type} timed out ({cause.type.name if cause.type else 'timeout'})"
    return cause.message if isinstance(cause, FailureError) and cause.message else str(err)
