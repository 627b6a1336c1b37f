"""Input and combined report of ScheduledTasksWorkflow (health, queue, maintenance)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from taskrunner.health.models import (
    HealthCheckInput,
    HealthReport,
)
from taskrunner.maintenance.models import (
    MaintenanceInput,
    MaintenanceReport,
)
from taskrunner.queue.models import (
    DrainReport,
    ProcessorInput,
)


class ScheduledTasksInput(BaseModel):
    health: HealthCheckInput = Field(default_factory=HealthCheckInput)
    processor: ProcessorInput = Field(default_factory=ProcessorInput)
    maintenance: MaintenanceInput


class ScheduledTasksReport(BaseModel):
    health: HealthReport
    processing: DrainReport
    maintenance: MaintenanceReport | None = None
    maintenance_error: str | None = None
    """Why maintenance failed (its error notification has gone out already)."""

    @property
    def ok(self) -> bool:
        partial = self.maintenance is not None and self.maintenance.status == "partial"
        return self.maintenance_error is None and not partial and self.processing.result.failed == 0


def scheduled_workflow_id(run: str) -> str:
    """The id of one ScheduledTasksWorkflow run (its children's ids extend it)."""
    return f"scheduled-tasks/{run}"
