"""The worker's side of the fast path: one activity call runs several tasks.

Each task runs through its type's own activity function, in this process and in the
call's activity context, concurrently with the others (at most the call's ``width`` at
once, each within its type's timeout); what it returns or raises is its own outcome
(see taskrunner/queue/bundles.py). Log lines and the duration metric
carry each task's fields, as on the remote path. A call that runs for a while
heartbeats the outcomes it has so far: a lost worker is noticed within the call's
heartbeat timeout, and the tasks it had finished are not run again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from temporalio import activity

from taskrunner.observability.task_context import about_task
from taskrunner.queue.attempts import ATTEMPT_TIMEOUT, AttemptFailure
from taskrunner.queue.bundles import (
    RUN_BUNDLE,
    BundleInput,
    BundleItem,
    BundleOutcome,
    BundleProgress,
)
from taskrunner.queue.models import queue_workflow_id
from taskrunner.queue.retries import failure_of
from taskrunner.tasks.common import heartbeating
from taskrunner.tasks.registry import TaskActivityInput, TaskResult, activity_name


class BundleActivities:
    """Runs bundles of the worker's task activities (by activity name)."""

    def __init__(self, task_activities: Mapping[str, Callable[..., Any]]) -> None:
        self._by_name = {activity_name(fn): fn for fn in task_activities.values()}

    @activity.defn(name=RUN_BUNDLE)
    async def run_task_bundle(self, bundle: BundleInput) -> BundleOutcome:
        run = self._by_name.get(bundle.activity)
        if run is None:
            raise RuntimeError(
                f"this worker has no task activity {bundle.activity!r}: every worker of "
                "a task queue must load the same task_modules"
            )
        queue = (activity.info().workflow_id or "").removeprefix(queue_workflow_id(""))
        slots = asyncio.Semaphore(bundle.width or len(bundle.tasks) or 1)
        timeout = bundle.attempt_timeout.total_seconds() if bundle.attempt_timeout else None
        done: dict[int, BundleItem] = {}

        async def one(index: int, task: TaskActivityInput) -> BundleItem:
            async with slots:
                done[index] = await _one(run, queue, task, timeout)
            return done[index]

        async with heartbeating(lambda: BundleProgress(done=dict(done)), at_once=False):
            items = await asyncio.gather(*(one(i, task) for i, task in enumerate(bundle.tasks)))
        return BundleOutcome(items=list(items))


async def _one(
    run: Callable[..., Any], queue: str, task: TaskActivityInput, seconds: float | None
) -> BundleItem:
    with about_task(queue, task, task.task_type or "?"):
        deadline = asyncio.timeout(seconds)
        try:
            async with deadline:
                result = await run(task)
        except Exception as err:  # each task's failure is its own attempt's
            if deadline.expired():
                late = f"the attempt timed out after {seconds:g} s (its task type's timeout)"
                return BundleItem(failure=AttemptFailure(message=late, type=ATTEMPT_TIMEOUT))
            return BundleItem(failure=failure_of(err))
    if not isinstance(result, TaskResult):
        result = TaskResult.model_validate(result)
    return BundleItem(result=result)
