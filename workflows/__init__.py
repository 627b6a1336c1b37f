"""Every workflow the runner executes, by name (the code lives in ``taskrunner/<concept>/``).

The worker (``taskrunner/worker.py``) registers exactly these.
"""

from taskrunner.health.workflow import HealthMonitorWorkflow
from taskrunner.maintenance.daily import DailyMaintenanceWorkflow
from taskrunner.maintenance.workflow import MaintenanceWorkflow
from taskrunner.queue.processor import TaskProcessorWorkflow
from taskrunner.queue.workflow import TaskQueueWorkflow
from taskrunner.scheduled.workflow import ScheduledTasksWorkflow

__all__ = [
    "DailyMaintenanceWorkflow",
    "HealthMonitorWorkflow",
    "MaintenanceWorkflow",
    "ScheduledTasksWorkflow",
    "TaskProcessorWorkflow",
    "TaskQueueWorkflow",
]
