"""The built-in task types. Adding one: a module in this package, one entry below."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from taskrunner.settings import Settings
from taskrunner.tasks.data_sync import DataSyncPayload, DataSyncTask
from taskrunner.tasks.email import EmailPayload, EmailTask
from taskrunner.tasks.registry import TaskRegistry, TaskType
from taskrunner.tasks.report import KNOWN_REPORTS, ReportPayload, ReportTask

BUILTIN_TASK_TYPES = TaskRegistry(
    [
        TaskType(
            "email",
            EmailPayload,
            lambda settings: EmailTask(settings).task_email,
            start_to_close_timeout=timedelta(seconds=60),
        ),
        TaskType(
            "report",
            ReportPayload,
            lambda settings: ReportTask(settings).task_report,
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(seconds=30),
        ),
        TaskType(
            "dataSync",
            DataSyncPayload,
            lambda settings: DataSyncTask(settings).task_data_sync,
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(seconds=30),
        ),
    ]
)
"""What every worker runs unless it is given another registry."""


def payload_context(settings: Settings) -> dict[str, Any]:
    """What the payload models check against the settings (a pydantic validation context)."""
    return {KNOWN_REPORTS: sorted(settings.reports)}
