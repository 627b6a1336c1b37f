"""TaskProcessorWorkflow: drains the default queue, started every minute by its schedule.

It asks the queue to drain what is pending (an activity sends the drain update,
since workflows cannot update other workflows), logs a summary and warns
when any task failed.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from taskrunner.notifications.models import Priority
    from taskrunner.notifications.notify import notify
    from taskrunner.policies import DEFAULT_RETRY
    from taskrunner.queue.activities import QueueActivities
    from taskrunner.queue.models import (
        DrainInput,
        DrainReport,
        ProcessorInput,
    )

SOURCE = "task-processor"
DRAIN_HEARTBEAT = timedelta(seconds=30)
DEFAULT_DRAIN_TIMEOUT = timedelta(hours=1)


@workflow.defn
class TaskProcessorWorkflow:
    @workflow.run
    async def run(self, params: ProcessorInput) -> DrainReport:
        report = await workflow.execute_activity_method(
            QueueActivities.drain_queue,
            DrainInput(queue=params.queue, resume=params.resume),
            start_to_close_timeout=timedelta(seconds=params.drain_timeout_seconds)
            if params.drain_timeout_seconds
            else DEFAULT_DRAIN_TIMEOUT,
            heartbeat_timeout=DRAIN_HEARTBEAT,
            retry_policy=DEFAULT_RETRY,
        )
        result, queue = report.result, report.queue
        workflow.logger.info("Task processing complete: %d tasks processed", report.processed)
        if report.stats is not None:
            workflow.logger.info("Queue stats: %s", report.stats.summary_line())
        if result.paused:
            workflow.logger.info("Queue %s is paused: pending tasks wait for resume", queue)
        if result.failed:
            await notify(
                f"Task processing complete: {result.completed} succeeded, {result.failed} failed",
                Priority.WARNING,
                SOURCE,
                queue=queue,
            )
        return report
