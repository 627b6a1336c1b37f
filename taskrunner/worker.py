"""The worker: every workflow and activity of the runner, registered on one task queue.

The CLI (``taskrunner run`` / ``taskrunner worker``), the top-level ``worker.py``,
tests and benchmarks all build their worker here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from taskrunner.health.activities import MonitoringActivities
from taskrunner.health.workflow import HealthMonitorWorkflow
from taskrunner.maintenance.activities import DatabaseActivities
from taskrunner.maintenance.daily import DailyMaintenanceWorkflow
from taskrunner.maintenance.workflow import MaintenanceWorkflow
from taskrunner.notifications.activities import NotificationActivities
from taskrunner.queue.activities import QueueActivities
from taskrunner.queue.processor import TaskProcessorWorkflow
from taskrunner.queue.workflow import TaskQueueWorkflow
from taskrunner.scheduled.workflow import ScheduledTasksWorkflow
from taskrunner.settings import Settings
from taskrunner.tasks.data_sync import DataSyncTask
from taskrunner.tasks.email import EmailTask
from taskrunner.tasks.report import ReportTask

WORKFLOWS: list[type] = [
    HealthMonitorWorkflow,
    TaskQueueWorkflow,
    TaskProcessorWorkflow,
    MaintenanceWorkflow,
    DailyMaintenanceWorkflow,
    ScheduledTasksWorkflow,
]
"""Every workflow the runner executes."""

GRACEFUL_SHUTDOWN = timedelta(seconds=20)
"""In-flight activities get this long to finish on SIGINT/SIGTERM before cancellation."""


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox, with pydantic passed through.

    Workflow modules import their models and activities inside
    ``workflow.unsafe.imports_passed_through()``; the workflow modules themselves
    are re-imported in the sandbox for every run, so their own code stays checked.
    """
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "pydantic", "pydantic_core"
        )
    )


def build_activities(settings: Settings, client: Client) -> list[Any]:
    """Activity callables bound to the instances (and clients) they need."""
    monitoring = MonitoringActivities(settings.health)
    notifications = NotificationActivities(settings)
    database = DatabaseActivities(settings)
    queue = QueueActivities(client, settings)
    return [
        monitoring.collect_system_metrics,
        monitoring.check_services,
        notifications.send_notification,
        # The task types (taskrunner/task_types.py names these activities).
        EmailTask(settings).task_email,
        ReportTask(settings).task_report,
        DataSyncTask(settings).task_data_sync,
        database.vacuum_database,
        database.analyze_database,
        database.backup_database,
        database.prune_backups,
        queue.drain_queue,
    ]


def build_worker(
    client: Client,
    settings: Settings,
    task_queue: str | None = None,
    extra_activities: Sequence[Any] = (),
    extra_workflows: Sequence[type] = (),
) -> Worker:
    """The worker that runs every workflow and activity of the runner.

    ``extra_activities`` adds activities (e.g. of task types registered with
    ``taskrunner.task_types.registered``) next to the built-in ones;
    ``extra_workflows`` does the same for workflows (benchmarks' baselines).
    """
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[*WORKFLOWS, *extra_workflows],
        activities=[*build_activities(settings, client), *extra_activities],
        workflow_runner=workflow_runner(),
        graceful_shutdown_timeout=GRACEFUL_SHUTDOWN,
    )


async def run_worker(settings: Settings, client: Client, stop: asyncio.Event) -> None:
    """Run until ``stop`` is set, then shut down gracefully."""
    async with build_worker(client, settings):
        await stop.wait()
