"""The built-in task types: email, report and dataSync."""

from __future__ import annotations

from datetime import timedelta

from taskrunner.tasks.data_sync import DataSyncPayload
from taskrunner.tasks.email import EmailPayload
from taskrunner.tasks.registry import TASK_TYPES, TaskType
from taskrunner.tasks.report import ReportPayload

BUILTIN = [
    TaskType("email", EmailPayload, "task_email", timedelta(seconds=60)),
    TaskType("report", ReportPayload, "task_report", timedelta(minutes=10), timedelta(seconds=30)),
    TaskType(
        "dataSync", DataSyncPayload, "task_data_sync", timedelta(minutes=30), timedelta(seconds=30)
    ),
]
TASK_TYPES.update({t.name: t for t in BUILTIN})
