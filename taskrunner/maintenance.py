"""What callers (the CLI, the schedules) need to start MaintenanceWorkflow."""

from __future__ import annotations

from taskrunner.models.maintenance import MaintenanceInput
from taskrunner.settings import Settings

WORKFLOW_ID_PREFIX = "maintenance"
"""Maintenance workflow ids start with this (``maintenance/manual-...``)."""


def maintenance_input(settings: Settings, force: bool = False) -> MaintenanceInput:
    """The workflow input from settings: window, time zone and target names.

    The workflow cannot read settings itself; a schedule stores this input, so
    re-apply the schedules after changing the window, zone or targets.
    """
    m = settings.maintenance
    return MaintenanceInput(
        force=force,
        timezone=settings.timezone,
        window_start=m.window_start,
        window_end=m.window_end,
        targets=[t.name for t in settings.maintenance_targets()],
    )
