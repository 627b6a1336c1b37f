"""The runner's schedules and periodic jobs for ``taskrunner status``: last and next run.

Read through the same operations as ``taskrunner schedules list`` and ``taskrunner jobs
list``; a schedule that is declared but not on the server says so in its ``error``.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from taskrunner.errors import UserError
from taskrunner.events import first_line
from taskrunner.jobs.operations import JobView, list_jobs
from taskrunner.schedules.declarations import DesiredSchedule, desired_schedules
from taskrunner.schedules.operations import ScheduleView, view
from taskrunner.settings import Settings
from taskrunner.status.models import ScheduleFact

NOT_APPLIED = "not on the server; run `taskrunner schedules apply`"


async def schedule_facts(client: Client, settings: Settings) -> list[ScheduleFact]:
    """The enabled declared schedules, in declaration order."""
    declared = desired_schedules(settings)
    return list(await asyncio.gather(*(_schedule(client, settings, w) for w in declared)))


async def _schedule(client: Client, settings: Settings, want: DesiredSchedule) -> ScheduleFact:
    try:
        return from_view(await view(client, settings, want.name, next_count=1))
    except UserError:
        error = NOT_APPLIED
    except Exception as err:  # one schedule's failure is its line, not the status's end
        error = first_line(str(err) or type(err).__name__)
    return ScheduleFact(
        name=want.name,
        id=want.id,
        paused=want.paused,
        cron=list(want.cron),
        timezone=want.timezone,
        error=error,
    )


def from_view(found: ScheduleView) -> ScheduleFact:
    return ScheduleFact(
        name=found.name,
        id=found.id,
        paused=found.paused,
        cron=found.cron,
        timezone=found.timezone,
        last_run=found.last_run,
        last_result=found.last_result,
        last_workflow_id=found.last_workflow_id,
        next_run=found.next_runs[0] if found.next_runs else None,
    )


async def job_facts(client: Client, settings: Settings) -> list[ScheduleFact]:
    """Every job by name, on the server or declared; one that cannot be read raises its
    line."""
    views = await list_jobs(client, settings)
    unreadable = [str(v) for v in views if isinstance(v, UserError)]
    if unreadable:
        raise UserError("; ".join(unreadable))
    return [from_job(v) for v in views if isinstance(v, JobView)]


def from_job(job: JobView) -> ScheduleFact:
    return ScheduleFact(
        kind="job",
        name=job.job.name,
        id=job.id,
        paused=job.paused,
        cron=job.spec,
        timezone=job.job.timezone or "UTC",
        last_run=job.last_run,
        last_result=job.last_result,
        last_workflow_id=job.last_workflow_id,
        next_run=job.next_runs[0] if job.next_runs else None,
        error=None if job.applied else NOT_APPLIED,
    )
