"""Jobs on the server: list, describe, add, remove, pause, resume, trigger.

A job's schedule carries the job in its action memo, so what these show is what
the server runs, whether the job came from the settings or from ``jobs add``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from temporalio.client import Client, ScheduleAlreadyRunningError, ScheduleDescription
from temporalio.client import ScheduleHandle as Handle

from taskrunner.errors import UserError
from taskrunner.jobs.keys import local_day
from taskrunner.jobs.models import DailySlot, JobFireResult
from taskrunner.jobs.schedule import (
    CLI_ORIGIN,
    JOB_ID_PREFIX,
    JobSchedule,
    check_job,
    describe_spec,
    job_schedule,
    job_schedule_id,
)
from taskrunner.schedules.apply import create, describe_or_none, our_schedule_ids, ours
from taskrunner.schedules.operations import Triggered, trigger_handle
from taskrunner.settings import Settings
from taskrunner.settings.jobs import JobSettings
from taskrunner.tasks.registry import TaskRegistry


@dataclass(frozen=True)
class JobView:
    """What ``jobs list`` and ``jobs describe`` show for one job."""

    job: JobSettings
    """As the server runs it (zone and queue filled in)."""
    id: str
    origin: str
    spec: list[str]
    backup: str | None
    """The backup cron of a once-per-local-day job."""
    paused: bool
    applied: bool
    """False: declared in the settings, not on the server yet (no next runs known)."""
    note: str | None = None
    next_runs: list[datetime] = field(default_factory=list)
    """In the job's zone; a once-per-local-day job's first fire of each day only."""
    last_run: datetime | None = None
    last_workflow_id: str | None = None
    last_result: str | None = None
    last_task_id: str | None = None


async def job_description(client: Client, settings: Settings, name: str) -> ScheduleDescription:
    """The job's schedule as the server has it, or a one-line UserError."""
    found = await describe_or_none(client.get_schedule_handle(job_schedule_id(settings, name)))
    if found is None or (await ours(client, found)).get("kind") != "job":
        declared = [job.name for job in settings.jobs]
        hint = (
            "run `taskrunner schedules apply` to create the settings' jobs"
            if name in declared
            else f"known jobs: {', '.join(await job_names(client, settings)) or 'none'}"
        )
        raise UserError(f"job {name!r} does not exist on the server; {hint}")
    return found


async def job_names(client: Client, settings: Settings) -> list[str]:
    """The jobs on the server (settings' and the CLI's), read from the schedule listing."""
    prefix = settings.schedules.id_prefix + JOB_ID_PREFIX
    found = [sid async for sid in our_schedule_ids(client, settings) if sid.startswith(prefix)]
    return sorted(sid.removeprefix(prefix) for sid in found)


async def view_job(client: Client, settings: Settings, name: str, next_count: int = 3) -> JobView:
    desc = await job_description(client, settings, name)
    memo = await ours(client, desc)
    try:
        job = JobSettings.model_validate(memo.get("job") or {})
    except ValidationError:
        raise UserError(f"job {name!r}: its schedule was written by another version") from None
    origin = CLI_ORIGIN if memo.get("origin") == CLI_ORIGIN else "settings"
    want = job_schedule(settings, job, origin)
    zone = ZoneInfo(want.zone)
    last = desc.info.recent_actions[-1] if desc.info.recent_actions else None
    last_id = getattr(last.action, "workflow_id", None) if last else None
    result, task_id = None, None
    if last_id:
        handle = client.get_workflow_handle(last_id, result_type=JobFireResult)
        status = (await handle.describe()).status
        result = status.name.lower() if status else "unknown"
        if result == "completed":
            task_id = (await handle.result()).task_id
    return replace(
        declared_view(want),
        id=desc.id,
        paused=desc.schedule.state.paused,
        applied=True,
        note=desc.schedule.state.note,
        next_runs=first_per_day(desc.info.next_action_times, zone, want.daily_slot())[:next_count],
        last_run=last.scheduled_at.astimezone(zone) if last else None,
        last_workflow_id=last_id,
        last_result=result,
        last_task_id=task_id,
    )


def first_per_day(
    times: Sequence[datetime], zone: ZoneInfo, slot: DailySlot | None
) -> list[datetime]:
    """The fire times in ``zone``; for a daily slot, the first one of each local day
    (the backup fire of a day that had its fire does nothing)."""
    local = [t.astimezone(zone) for t in times]
    if slot is None:
        return local
    seen: set[date | None] = set()
    kept = []
    for when in local:
        day = local_day(slot, when)
        if day not in seen:
            seen.add(day)
            kept.append(when)
    return kept


async def list_jobs(client: Client, settings: Settings) -> list[JobView | UserError]:
    """Every job: those on the server, and the settings' ones not applied yet (as declared);
    a job that cannot be read is its error."""
    names = sorted({*await job_names(client, settings), *(j.name for j in settings.jobs)})
    views: list[JobView | UserError] = []
    declared = {job.name: job for job in settings.jobs}
    for name in names:
        try:
            views.append(await view_job(client, settings, name))
        except UserError as err:
            known = declared.get(name)
            views.append(declared_view(job_schedule(settings, known, "settings")) if known else err)
    return views


def declared_view(want: JobSchedule) -> JobView:
    """The job as declared, before the server says anything about it."""
    return JobView(
        job=want.job,
        id=want.id,
        origin=want.origin,
        spec=describe_spec(want.job),
        backup=want.backup(),
        paused=want.job.paused,
        applied=False,
    )


async def add_job(
    client: Client, settings: Settings, job: JobSettings, task_types: TaskRegistry
) -> str:
    """Create a job's schedule from the CLI (apply never deletes it); returns its id."""
    if job.name in {j.name for j in settings.jobs}:
        raise UserError(
            f"job {job.name!r} is declared in the settings; change it there and run "
            "`taskrunner schedules apply`"
        )
    check_job(job, settings, task_types)
    want = job_schedule(settings, job, CLI_ORIGIN)
    try:
        await create(client, settings, want)
    except ScheduleAlreadyRunningError:
        raise UserError(
            f"job {job.name!r} exists already; `taskrunner jobs remove {job.name}` first"
        ) from None
    return want.id


async def job_handle(client: Client, settings: Settings, name: str) -> Handle:
    await job_description(client, settings, name)
    return client.get_schedule_handle(job_schedule_id(settings, name))


async def remove_job(client: Client, settings: Settings, name: str) -> None:
    await (await job_handle(client, settings, name)).delete()


async def pause_job(client: Client, settings: Settings, name: str, note: str | None) -> None:
    await (await job_handle(client, settings, name)).pause(note=note or "paused from the CLI")


async def resume_job(client: Client, settings: Settings, name: str, note: str | None) -> None:
    await (await job_handle(client, settings, name)).unpause(note=note or "resumed from the CLI")


async def trigger_job(client: Client, settings: Settings, name: str) -> Triggered:
    """Fire the job now (under its overlap policy); the run the server started."""
    return await trigger_handle(await job_handle(client, settings, name))
