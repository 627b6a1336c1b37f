"""The task types' activities: one module per type (see taskrunner/task_types.py)."""

from activities.tasks.data_sync import DataSyncTask
from activities.tasks.email_task import EmailTask
from activities.tasks.report_task import ReportTask

__all__ = ["DataSyncTask", "EmailTask", "ReportTask"]
