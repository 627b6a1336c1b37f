"""The job fire's activities: enqueue its task, and wait until the task has finished."""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from taskrunner.errors import UserError, configuration_error
from taskrunner.jobs.models import EnqueueJobTask, JobTaskEnded, JobTaskRef
from taskrunner.queue.client import QUERY_BUSY, QueueClient
from taskrunner.queue.models import Enqueued, TaskStatus
from taskrunner.settings import Settings

POLL = (0.5, 10.0)
"""First and longest wait between two looks at a job's task, in seconds (growing 1.5x)."""
UNFINISHED = (TaskStatus.PENDING, TaskStatus.RUNNING)
"""A task in these states (a retry backing off is pending) holds its job's next fire."""


class JobActivities:
    """Built by the worker with its client: activities never create clients."""

    def __init__(self, client: Client, settings: Settings) -> None:
        self._client = client
        self._settings = settings

    @activity.defn(name="enqueue_job_task")
    async def enqueue_job_task(self, params: EnqueueJobTask) -> Enqueued:
        """Enqueue the fire's task; its key makes a repeated call return the same task."""
        queue = QueueClient(self._client, self._settings, params.queue)
        try:
            return await queue.enqueue(params.spec)
        except UserError as err:
            # Refused by the queue (unknown type, bad payload, a stopped queue): a retry
            # cannot help, the job's settings or the queue need a person.
            raise configuration_error(f"job {params.job}: {err}") from None

    @activity.defn(name="await_job_task")
    async def await_job_task(self, params: JobTaskRef) -> JobTaskEnded:
        """Return once the task is no longer pending or running, heartbeating meanwhile."""
        queue = QueueClient(self._client, self._settings, params.queue)
        delay = POLL[0]
        while True:
            activity.heartbeat()
            try:
                record = await queue.show(params.task_id)
            except UserError:
                # The queue forgot the task (it finished long ago, or was purged) or the
                # queue was stopped: nothing is pending for this job any more.
                return JobTaskEnded(status=None)
            except RPCError as err:
                if err.status not in QUERY_BUSY:
                    raise
            else:
                if record.status not in UNFINISHED:
                    return JobTaskEnded(status=record.status, error=record.last_error)
            if await _worker_stops_within(delay):
                # Only a wait: give it up now rather than hold the worker's graceful
                # shutdown; the next attempt (retried without limit) waits on elsewhere.
                raise ApplicationError("the worker is stopping; another attempt waits on")
            delay = min(delay * 1.5, POLL[1])


async def _worker_stops_within(seconds: float) -> bool:
    try:
        await asyncio.wait_for(activity.wait_for_worker_shutdown(), seconds)
    except TimeoutError:
        return False
    return True
