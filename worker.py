"""Entry point of the worker: builds clients and activities, registers everything, runs.

Run it on as many machines as you like against one Temporal cluster:
``TEMPORAL_ADDRESS=host:7233 python worker.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.database import DatabaseActivities
from activities.monitoring import MonitoringActivities
from activities.notifications import NotificationActivities
from activities.queue import QueueActivities
from activities.tasks import DataSyncTask, EmailTask, ReportTask
from taskrunner.settings import Settings
from workflows.daily_maintenance import DailyMaintenanceWorkflow
from workflows.health import HealthMonitorWorkflow
from workflows.maintenance import MaintenanceWorkflow
from workflows.scheduled import ScheduledTasksWorkflow
from workflows.task_processor import TaskProcessorWorkflow
from workflows.task_queue import TaskQueueWorkflow

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
    """The sandbox, with models and settings passed through.

    They are plain data: sharing them with the sandbox avoids re-importing them for
    every workflow run.
    """
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(
            "taskrunner", "pydantic", "pydantic_core", "activities"
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


def main() -> None:
    from taskrunner.cli import main as cli_main

    cli_main(["worker"])


if __name__ == "__main__":
    main()
