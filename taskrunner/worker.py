"""The worker: every workflow and activity of the runner, registered on one task queue.

The CLI (``taskrunner run`` / ``taskrunner worker``), the top-level ``worker.py``,
tests and benchmarks all build their worker here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import Worker, WorkerDeploymentConfig
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from taskrunner.health.activities import MonitoringActivities
from taskrunner.health.readings import SystemReader
from taskrunner.health.workflow import HealthMonitorWorkflow
from taskrunner.jobs.activities import JobActivities
from taskrunner.jobs.workflow import JobFireWorkflow
from taskrunner.maintenance.activities import DatabaseActivities
from taskrunner.maintenance.daily import DailyMaintenanceWorkflow
from taskrunner.maintenance.workflow import MaintenanceWorkflow
from taskrunner.notifications.activities import NotificationActivities
from taskrunner.observability.search_attributes import SearchAttributeActivities
from taskrunner.observability.task_context import TaskContextInterceptor
from taskrunner.queue.activities import QueueActivities
from taskrunner.queue.bundle_activity import BundleActivities
from taskrunner.queue.handover import HandoverInterceptor
from taskrunner.queue.processor import TaskProcessorWorkflow
from taskrunner.queue.worker_context import TaskTypeActivities, TaskTypesInterceptor
from taskrunner.queue.workflow import TaskQueueWorkflow
from taskrunner.run_log import RunLogInterceptor
from taskrunner.scheduled.workflow import ScheduledTasksWorkflow
from taskrunner.settings import Settings
from taskrunner.settings.worker import WorkerSettings
from taskrunner.tasks.builtin import payload_context
from taskrunner.tasks.loading import task_registry
from taskrunner.tasks.registry import TaskRegistry, activity_name

WORKFLOWS: list[type] = [
    HealthMonitorWorkflow,
    TaskQueueWorkflow,
    TaskProcessorWorkflow,
    MaintenanceWorkflow,
    DailyMaintenanceWorkflow,
    ScheduledTasksWorkflow,
    JobFireWorkflow,
]
"""Every workflow the runner executes."""

VERSIONING_BEHAVIORS = {
    "auto_upgrade": VersioningBehavior.AUTO_UPGRADE,
    "pinned": VersioningBehavior.PINNED,
}
"""The ``worker.versioning_behavior`` setting's values as the SDK's."""


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


def deployment_config(worker: WorkerSettings) -> WorkerDeploymentConfig | None:
    """Worker Deployment versioning, when ``deployment_name`` and ``build_id`` are set.

    Every workflow of the runner takes ``worker.versioning_behavior`` (none declares its
    own), so a versioned worker needs no change to workflow code.
    """
    if worker.deployment_name is None or worker.build_id is None:
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(worker.deployment_name, worker.build_id),
        use_worker_versioning=True,
        default_versioning_behavior=VERSIONING_BEHAVIORS[worker.versioning_behavior],
    )


def use_task_threads(worker: WorkerSettings) -> None:
    """Give this process's event loop ``worker.task_threads`` threads for blocking work
    (``asyncio.to_thread``): a worker process calls it once, before it starts."""
    pool = ThreadPoolExecutor(max_workers=worker.task_threads, thread_name_prefix="task")
    asyncio.get_running_loop().set_default_executor(pool)


def task_activities(task_types: TaskRegistry, settings: Settings) -> dict[str, Any]:
    """Each task type's activity, built once, by type name."""
    return {name: task_type.activity(settings) for name, task_type in task_types.items()}


def build_activities(
    settings: Settings,
    client: Client,
    tasks: dict[str, Any],
    system_reader: SystemReader | None = None,
) -> list[Any]:
    """Every activity callable, bound to the instances (and clients) it needs."""
    monitoring = MonitoringActivities(settings.health, system_reader)
    notifications = NotificationActivities(settings)
    database = DatabaseActivities(settings)
    queue = QueueActivities(client, settings)
    jobs = JobActivities(client, settings)
    search = SearchAttributeActivities(client)
    # Two task types may share one activity: register each name once.
    by_name = {activity_name(fn): fn for fn in tasks.values()}
    return [
        monitoring.collect_system_metrics,
        monitoring.check_services,
        notifications.send_notification,
        database.inspect_target,
        database.vacuum_database,
        database.analyze_database,
        database.backup_database,
        database.prune_backups,
        queue.drain_queue,
        jobs.enqueue_job_task,
        jobs.await_job_task,
        search.registered_search_attributes,
        *by_name.values(),
    ]


def build_worker(
    client: Client,
    settings: Settings,
    *,
    task_types: TaskRegistry | None = None,
    task_queue: str | None = None,
    extra_workflows: Sequence[type] = (),
    extra_activities: Sequence[Any] = (),
    system_reader: SystemReader | None = None,
) -> Worker:
    """The worker that runs every workflow and activity of the runner.

    Args:
        client: Connected with the pydantic data converter.
        settings: What the activities work with; ``settings.worker`` sets the worker's
            identity, limits, graceful shutdown and versioning.
        task_types: The task types this worker runs and its queues accept (by default
            the built-in ones plus those of ``settings.task_modules``).
        task_queue: The Temporal task queue to poll (``settings.task_queue`` by default).
        extra_workflows: More workflows to run (benchmarks' baselines).
        extra_activities: More activities, outside any task type (benchmarks' baselines).
        system_reader: Where the health monitor reads CPU, memory and disk use
            (``taskrunner.health.readings``); this machine, through psutil, by default.
    """
    if task_types is None:
        task_types = task_registry(settings)
    tasks = task_activities(task_types, settings)
    resolver = TaskTypeActivities(task_types, tasks)
    task_activity_names = {activity_name(fn) for fn in tasks.values()}
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[*WORKFLOWS, *extra_workflows],
        activities=[
            *build_activities(settings, client, tasks, system_reader),
            resolver.resolve_task_types,
            BundleActivities(tasks).run_task_bundle,
            *extra_activities,
        ],
        interceptors=[
            TaskTypesInterceptor(task_types, payload_context(settings)),
            # Outside the handover: a detached attempt's report is about its task too.
            TaskContextInterceptor(task_activity_names),
            HandoverInterceptor(client, task_activity_names),
            RunLogInterceptor(),
        ],
        workflow_runner=workflow_runner(),
        graceful_shutdown_timeout=timedelta(seconds=settings.worker.graceful_shutdown_seconds),
        identity=settings.worker.identity,
        max_concurrent_activities=settings.worker.max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.worker.max_concurrent_workflow_tasks,
        max_concurrent_local_activities=settings.worker.max_concurrent_local_activities,
        deployment_config=deployment_config(settings.worker),
    )
