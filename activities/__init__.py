"""Every activity class of the runner (the code lives in ``taskrunner/<concept>/``).

All I/O happens in these; the worker (``taskrunner/worker.py``) builds them with
the settings and clients they need.
"""

from taskrunner.health.activities import MonitoringActivities
from taskrunner.maintenance.activities import DatabaseActivities
from taskrunner.notifications.activities import NotificationActivities
from taskrunner.queue.activities import QueueActivities
from taskrunner.tasks.data_sync import DataSyncTask
from taskrunner.tasks.email import EmailTask
from taskrunner.tasks.report import ReportTask

__all__ = [
    "DataSyncTask",
    "DatabaseActivities",
    "EmailTask",
    "MonitoringActivities",
    "NotificationActivities",
    "QueueActivities",
    "ReportTask",
]
