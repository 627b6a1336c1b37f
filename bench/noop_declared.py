"""The fast-path no-op as a task module, for worker processes the bench starts
(``taskrunner worker --processes N --task-module bench.noop_declared``)."""

from __future__ import annotations

from datetime import timedelta

from taskrunner import TaskContext, task_type
from taskrunner.tasks.registry import TaskPayload

PROCESS_NOOP_TYPE = "bench_noop_proc"


class ProcPayload(TaskPayload):
    index: int = 0


@task_type(PROCESS_NOOP_TYPE, payload=ProcPayload, timeout=timedelta(seconds=30), bundle=25)
async def noop(payload: ProcPayload, ctx: TaskContext) -> str:
    return "ok"
