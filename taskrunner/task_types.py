"""The task type registry: name -> payload model, activity, timeouts, retry policy.

Adding a task type is one entry here plus one activity (see the README). Workflow
code reads this registry (it is plain data, passed through the sandbox).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel
from temporalio.common import RetryPolicy

from taskrunner.models.tasks import DataSyncPayload, EmailPayload, ReportPayload
from taskrunner.policies import DEFAULT_RETRY


@dataclass(frozen=True)
class TaskType:
    name: str
    payload_model: type[BaseModel]
    activity: str
    """Name of the activity that executes it (takes TaskActivityInput, returns TaskResult)."""
    start_to_close_timeout: timedelta
    heartbeat_timeout: timedelta | None = None
    retry_policy: RetryPolicy = DEFAULT_RETRY


TASK_TYPES: dict[str, TaskType] = {
    t.name: t
    for t in [
        TaskType("email", EmailPayload, "task_email", timedelta(seconds=60)),
        TaskType(
            "report", ReportPayload, "task_report", timedelta(minutes=10), timedelta(seconds=30)
        ),
        TaskType(
            "dataSync",
            DataSyncPayload,
            "task_data_sync",
            timedelta(minutes=30),
            timedelta(seconds=30),
        ),
    ]
}
"""Every known task type by name."""
