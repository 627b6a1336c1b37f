"""DailyMaintenanceWorkflow: what the maintenance schedule starts; one run per night.

A daily job at a local wall-clock time meets daylight saving twice a year: on the
spring-forward day 02:00 may not exist (Temporal fires zero times), on the
fall-back day it exists twice (it may fire twice). The schedule therefore fires
more than once inside the window, and this workflow lets only the first fire of
each night run MaintenanceWorkflow: the child's workflow id is
``<schedule>/<night>``, and Temporal refuses a second workflow with that id
(unless the first one failed, so a failed night can still be retried by a later
fire the same night).

The night is the local date on which the fire's window opened: with a window over
midnight (23:00-01:00) the 23:00 and 00:00 fires are one night, dated by 23:00.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import SearchAttributeKey, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from taskrunner.maintenance.models import (
        WORKFLOW_ID_PREFIX,
        MaintenanceInput,
        MaintenanceReport,
    )
    from taskrunner.maintenance.workflow import MaintenanceWorkflow

SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
"""Set by the schedule on every workflow it starts: the nominal fire time."""
SCHEDULED_BY = SearchAttributeKey.for_keyword("TemporalScheduledById")
"""Set by the schedule: its id."""


@workflow.defn
class DailyMaintenanceWorkflow:
    @workflow.run
    async def run(self, params: MaintenanceInput) -> MaintenanceReport:
        attributes = workflow.info().typed_search_attributes
        # Judge the day and the window at the fire time, not at start: a backfilled
        # or slightly late run belongs to the slot it was scheduled for.
        fire_time = attributes.get(SCHEDULED_START) or workflow.now()
        owner = attributes.get(SCHEDULED_BY) or WORKFLOW_ID_PREFIX
        day = params.night_of(params.local_time(fire_time)).isoformat()
        child_id = f"{owner}/{day}"
        try:
            return await workflow.execute_child_workflow(
                MaintenanceWorkflow.run,
                params.model_copy(update={"as_of": fire_time}),
                id=child_id,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.info(
                "Maintenance for the night of %s already ran (%s): skipping", day, child_id
            )
            local = params.local_time(fire_time)
            return MaintenanceReport(
                status="skipped",
                reason=f"Maintenance for the night of {day} already ran ({child_id})",
                forced=params.force,
                window_open=params.is_window_open_at(local),
                window=params.window,
                timezone=params.timezone,
                local_time=local.isoformat(),
            )
