"""JobFireWorkflow: what a job's schedule starts on every fire; it enqueues one task.

The task's idempotency key is made of the job and the fire's nominal time (see
keys.py), so however often this fire is started or its enqueue retried, the queue
holds one task for it. For overlap "skip" the run then waits until its task has
finished: the schedule's own SKIP policy drops fires while a run is open, which is
"no new task while the previous one is pending or running".
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from taskrunner.errors import NEVER_RETRIED
    from taskrunner.jobs.activities import JobActivities
    from taskrunner.jobs.keys import task_key
    from taskrunner.jobs.models import EnqueueJobTask, JobFire, JobFireResult, JobTaskRef
    from taskrunner.notifications.models import Priority
    from taskrunner.notifications.notify import notify
    from taskrunner.policies import DEFAULT_RETRY

SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
"""Set by the schedule on every run it starts: the fire's nominal time (without jitter)."""
ENQUEUE_TIMEOUT = timedelta(minutes=1)
"""Start-to-close of one enqueue (an update-with-start on the queue workflow)."""
WAIT_TIMEOUT = timedelta(days=1)
"""Start-to-close of one attempt at waiting for the task; a longer wait is retried."""
WAIT_HEARTBEAT = timedelta(minutes=1)
"""A waiting attempt lost with its worker is retried on another after this."""
WAIT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,  # for as long as the task is pending: that is the skip policy
    non_retryable_error_types=list(NEVER_RETRIED),
)


@workflow.defn
class JobFireWorkflow:
    @workflow.run
    async def run(self, fire: JobFire) -> JobFireResult:
        # The nominal fire time: a retried start of the same fire sees the same one.
        # A run not started by a schedule (a test, a replay) uses its own start.
        fire_time = workflow.info().typed_search_attributes.get(SCHEDULED_START) or workflow.now()
        key = task_key(fire, fire_time)
        spec = fire.task.model_copy(update={"key": key})
        try:
            enqueued = await workflow.execute_activity_method(
                JobActivities.enqueue_job_task,
                EnqueueJobTask(job=fire.job, queue=fire.queue, spec=spec),
                start_to_close_timeout=ENQUEUE_TIMEOUT,
                retry_policy=DEFAULT_RETRY,
            )
        except ActivityError as err:
            why = err.cause.message if isinstance(err.cause, ApplicationError) else str(err)
            await notify(
                f"Job {fire.job} could not enqueue its task: {why}",
                Priority.ERROR,
                f"job-{fire.job}",
                key=key,
            )
            raise
        result = JobFireResult(
            job=fire.job, key=key, task_id=enqueued.task_id, created=enqueued.created
        )
        workflow.logger.info(
            "Job %s: task %s %s (%s)",
            fire.job,
            enqueued.task_id,
            "enqueued" if enqueued.created else "was already enqueued",
            key,
        )
        if not fire.wait:
            return result
        ended = await workflow.execute_activity_method(
            JobActivities.await_job_task,
            JobTaskRef(queue=fire.queue, task_id=enqueued.task_id),
            start_to_close_timeout=WAIT_TIMEOUT,
            heartbeat_timeout=WAIT_HEARTBEAT,
            retry_policy=WAIT_RETRY,
        )
        return result.model_copy(update={"status": ended.status})
