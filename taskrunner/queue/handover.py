"""Worker side of detachable attempts (see attempts.py): outcomes reach the queue's
current run even when the run that started the attempt has continued as new.

Attempts shorter than ``DETACH_AFTER`` complete as usual. A longer one completes by
its task token from here; when its run has ended (NOT_FOUND), the outcome goes to
the queue's current run as a ``report_attempt`` update. A heartbeat of an attempt
whose run ended cancels the activity (NOT_FOUND): the task keeps running regardless
and reports when done.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from taskrunner.queue.attempts import CLOCK_MARGIN, AttemptReport
from taskrunner.queue.calls import call_queue
from taskrunner.queue.retries import failure_of
from taskrunner.tasks.registry import TaskActivityInput, TaskResult

logger = logging.getLogger(__name__)

Finished = TaskResult | Exception
"""How an attempt's activity ended: its result, or what it raised."""


class HandoverInterceptor(Interceptor):
    """Wraps the worker's task activities (by name) so their outcomes survive a new run."""

    def __init__(self, client: Client, task_activities: set[str]) -> None:
        self.client = client
        self.task_activities = task_activities
        self._reporting: set[asyncio.Task[None]] = set()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Handover(next, self)

    def spawn(self, outcome: Finished, info: activity.Info, task: TaskActivityInput) -> None:
        """Deliver ``outcome`` after the activity returned (a reference keeps it alive)."""
        job = asyncio.create_task(self._deliver(outcome, info, task))
        self._reporting.add(job)
        job.add_done_callback(self._reporting.discard)

    async def _deliver(
        self, outcome: Finished, info: activity.Info, task: TaskActivityInput
    ) -> None:
        handle = self.client.get_async_activity_handle(task_token=info.task_token)
        try:
            if isinstance(outcome, Exception):
                await handle.fail(outcome)
            else:
                await handle.complete(outcome)
            return
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                logger.warning("Task %s: completing its attempt failed: %s", task.task_id, err)
                return  # the run's timeout (or the next run's lease) retries the task
        # The run that started the attempt has ended: tell the queue's current run.
        report = AttemptReport(task_id=task.task_id, attempt=task.attempt_offset + 1)
        if isinstance(outcome, Exception):
            report.failure = failure_of(outcome)
        else:
            report.result = outcome
        from taskrunner.queue.workflow import TaskQueueWorkflow

        workflow_id = info.workflow_id or ""
        queue = self.client.get_workflow_handle(workflow_id)
        update_id = f"attempt/{task.task_id}/{report.attempt}"
        try:
            await call_queue(
                workflow_id,
                queue,
                lambda: queue.execute_update(
                    TaskQueueWorkflow.report_attempt, report, id=update_id
                ),
            )
        except Exception as err:  # the lease retries the task
            logger.warning("Task %s: reporting its attempt failed: %s", task.task_id, err)


class _Handover(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, root: HandoverInterceptor) -> None:
        super().__init__(next)
        self._root = root

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        task = input.args[0] if input.args else None
        if (
            info.activity_type not in self._root.task_activities
            or not isinstance(task, TaskActivityInput)
            or task.detach_at is None
        ):
            return await super().execute_activity(input)
        work = asyncio.ensure_future(super().execute_activity(input))
        outcome: Finished
        try:
            outcome = await asyncio.shield(work)
        except asyncio.CancelledError:
            details = activity.cancellation_details()
            if details is None or not details.not_found:
                work.cancel()
                raise
            # Its run has ended (a heartbeat found no such activity): finish anyway.
            outcome = await _settled(work)
        except Exception as err:
            outcome = err
        if datetime.now(UTC) < task.detach_at - CLOCK_MARGIN or _timed_out(info):
            # The run still waits for this attempt, or nothing does any more (past its
            # start-to-close timeout, the attempt is retried already): complete as usual.
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        self._root.spawn(outcome, info, task)
        activity.raise_complete_async()


def _timed_out(info: activity.Info) -> bool:
    timeout, started = info.start_to_close_timeout, info.started_time
    return timeout is not None and datetime.now(UTC) > started + timeout


async def _settled(work: asyncio.Future[Any]) -> Finished:
    while True:
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            if work.done() and work.cancelled():
                raise
        except Exception as err:
            return err
