"""ScheduledTasksWorkflow: every scheduled job once, in order, as child workflows.

Health monitor, then the queue processor, then maintenance, in that order. A
maintenance skipped outside its window is a normal outcome; a failed one is
reported (its error notification has gone out) without failing the whole run,
so the report still says how health and the queue went.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ChildWorkflowError, FailureError

with workflow.unsafe.imports_passed_through():
    from taskrunner.health.workflow import HealthMonitorWorkflow
    from taskrunner.maintenance.workflow import MaintenanceWorkflow
    from taskrunner.queue.processor import TaskProcessorWorkflow
    from taskrunner.scheduled.models import (
        ScheduledTasksInput,
        ScheduledTasksReport,
    )


@workflow.defn
class ScheduledTasksWorkflow:
    @workflow.run
    async def run(self, params: ScheduledTasksInput) -> ScheduledTasksReport:
        base = workflow.info().workflow_id
        workflow.logger.info(">>> Running Health Monitor...")
        health = await workflow.execute_child_workflow(
            HealthMonitorWorkflow.run, params.health, id=f"{base}/health"
        )
        workflow.logger.info(">>> Processing Task Queue...")
        processing = await workflow.execute_child_workflow(
            TaskProcessorWorkflow.run, params.processor, id=f"{base}/task-processor"
        )
        workflow.logger.info(">>> Running Scheduled Maintenance...")
        report = ScheduledTasksReport(health=health, processing=processing)
        try:
            report.maintenance = await workflow.execute_child_workflow(
                MaintenanceWorkflow.run, params.maintenance, id=f"{base}/maintenance"
            )
        except ChildWorkflowError as err:
            cause = err.cause
            report.maintenance_error = (
                cause.message if isinstance(cause, FailureError) and cause.message else str(err)
            )
        workflow.logger.info("ALL SCHEDULED TASKS COMPLETE")
        return report
