"""The worker's side of the fast path: one activity call runs several tasks.

Each task runs through its type's own activity function, in this process and in the
call's activity context, concurrently with the others; what it returns or raises is
its own outcome (see taskrunner/queue/bundles.py). Log lines and the duration metric
carry each task's fields, as on the remote path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from temporalio import activity

from taskrunner.observability.task_context import about_task
from taskrunner.queue.bundles import RUN_BUNDLE, BundleInput, BundleItem, BundleOutcome
from taskrunner.queue.models import queue_workflow_id
from taskrunner.queue.retries import failure_of
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
        items = await asyncio.gather(*(_one(run, queue, task) for task in bundle.tasks))
        return BundleOutcome(items=list(items))


async def _one(run: Callable[..., Any], queue: str, task: TaskActivityInput) -> BundleItem:
    with about_task(queue, task, task.task_type or "?"):
        try:
            result = await run(task)
        except Exception as err:  # each task's failure is its own attempt's
            return BundleItem(failure=failure_of(err))
    if not isinstance(result, TaskResult):
        result = TaskResult.model_validate(result)
    return BundleItem(result=result)
