"""A task module for the jobs' CLI tests (``task_modules = ["tests.helpers.job_tasks"]``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from taskrunner.tasks.declare import TaskContext, task_type
from taskrunner.tasks.registry import TaskPayload


class TallyPayload(TaskPayload):
    n: int = Field(default=0, ge=0)


@task_type("tally", payload=TallyPayload, timeout=timedelta(seconds=30))
def tally(payload: TallyPayload, ctx: TaskContext) -> str:
    return f"tallied {payload.n} ({ctx.task_id})"
