"""The last reports of the runner's health monitor and maintenance, for ``taskrunner status``.

Each is the result of a completed workflow run found by a visibility query: runs on
the runner's task queue (scheduled, triggered, or children of the scheduled tasks
workflow) and one-shot runs of ``taskrunner health`` / ``taskrunner maintenance``,
whose private task queues are named after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from temporalio.client import Client, WorkflowExecution

from taskrunner.health.models import HealthReport
from taskrunner.health.workflow import HealthMonitorWorkflow
from taskrunner.maintenance.models import MaintenanceReport
from taskrunner.maintenance.workflow import MaintenanceWorkflow
from taskrunner.settings import Settings
from taskrunner.status.models import MaintenanceFact

LOOKBACK_RUNS = 20
"""Completed runs looked at, newest first (a maintenance target's outcome may be older
than the last run: a run outside the window maintains nothing)."""
CLI_QUEUE_INFIX = "-cli-"
"""A one-shot command's private task queue is ``<task queue>-cli-<id>`` (the CLI's
``private_task_queue``)."""


@dataclass(frozen=True)
class LastHealth:
    report: HealthReport
    finished_at: datetime | None
    workflow_id: str


def completed_runs_query(workflow_type: str, task_queue: str) -> str:
    """Completed runs of ``workflow_type`` on the runner's task queue or a CLI's own."""
    return (
        f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Completed' AND "
        f"(TaskQueue = '{task_queue}' OR TaskQueue STARTS_WITH '{task_queue}{CLI_QUEUE_INFIX}')"
    )


async def completed_runs(client: Client, workflow: Any, task_queue: str) -> list[WorkflowExecution]:
    """The last completed runs of ``workflow``, newest first."""
    query = completed_runs_query(workflow.__name__, task_queue)
    runs = [run async for run in client.list_workflows(query, limit=LOOKBACK_RUNS)]
    return sorted(runs, key=_closed, reverse=True)


def _closed(run: WorkflowExecution) -> float:
    return run.close_time.timestamp() if run.close_time is not None else 0.0


async def _result(client: Client, run: WorkflowExecution, result_type: type) -> Any:
    handle = client.get_workflow_handle(run.id, run_id=run.run_id, result_type=result_type)
    return await handle.result(follow_runs=False)


async def last_health(client: Client, settings: Settings) -> LastHealth | None:
    """The newest completed health monitor run's report (None: none completed yet)."""
    runs = await completed_runs(client, HealthMonitorWorkflow, settings.task_queue)
    if not runs:
        return None
    report = await _result(client, runs[0], HealthReport)
    return LastHealth(report=report, finished_at=runs[0].close_time, workflow_id=runs[0].id)


async def last_maintenance(client: Client, settings: Settings) -> list[MaintenanceFact]:
    """Each target's outcome in the newest completed maintenance run that reported it:
    the configured targets in order, then any other target a run reported."""
    wanted = [t.name for t in settings.maintenance_targets()]
    found: dict[str, MaintenanceFact] = {}
    for run in await completed_runs(client, MaintenanceWorkflow, settings.task_queue):
        report: MaintenanceReport = await _result(client, run, MaintenanceReport)
        for outcome in report.targets:
            if outcome.target not in found:
                found[outcome.target] = MaintenanceFact(
                    finished_at=run.close_time, workflow_id=run.id, outcome=outcome
                )
        if all(name in found for name in wanted):
            break
    order = {name: i for i, name in enumerate(wanted)}
    return sorted(found.values(), key=lambda f: order.get(f.outcome.target, len(order)))
