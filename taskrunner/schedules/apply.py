"""Make the server's schedules match the declarations and the settings' jobs, idempotently.

Create what is missing, update what changed (a fingerprint of what would be sent is
kept in each schedule's action memo), delete a schedule we manage that is no longer
declared, and never touch a schedule we do not manage or a job added from the CLI.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Client,
    Schedule,
    ScheduleDescription,
    ScheduleHandle,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from taskrunner.jobs.schedule import CLI_ORIGIN, check_job, desired_jobs
from taskrunner.schedules.declarations import MEMO_KEY, desired_schedules
from taskrunner.settings import Settings
from taskrunner.tasks.loading import task_registry
from taskrunner.tasks.registry import TaskRegistry


class Managed(Protocol):
    """A schedule apply manages: a built-in declaration or a job."""

    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str:
        """schedule (a built-in one) or job."""
        ...

    @property
    def name(self) -> str: ...
    @property
    def paused(self) -> bool: ...
    def fingerprint(self) -> str: ...
    def to_schedule(self) -> Schedule: ...


@dataclass(frozen=True)
class ApplyResult:
    name: str
    id: str
    action: str
    """created, updated, unchanged or deleted."""
    kind: str = "schedule"
    """schedule (a built-in one) or job."""


async def describe_or_none(handle: ScheduleHandle) -> ScheduleDescription | None:
    try:
        return await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def ours(client: Client, description: ScheduleDescription) -> dict[str, Any]:
    """Our entry in the schedule action's memo (described schedules hold raw payloads,
    encrypted when a key is set: the client's converter decodes them)."""
    memo = getattr(description.schedule.action, "memo", None) or {}
    value = memo.get(MEMO_KEY)
    if isinstance(value, Payload):
        [value] = await client.data_converter.decode([value])
    return value if isinstance(value, dict) else {}


def managed(settings: Settings, task_types: TaskRegistry | None = None) -> list[Managed]:
    """Every schedule the settings declare; jobs are checked against the task types first
    (the worker's, ``task_registry(settings)``, by default), so nothing is sent if one
    is wrong."""
    if settings.jobs:
        known = task_registry(settings) if task_types is None else task_types
        for job in settings.jobs:
            check_job(job, settings, known)
    return [*desired_schedules(settings), *desired_jobs(settings)]


async def apply_schedules(
    client: Client, settings: Settings, task_types: TaskRegistry | None = None
) -> list[ApplyResult]:
    """Make the server's schedules match the declarations. Safe to run any number of times.

    An operator's pause (``taskrunner schedules pause``) survives an update unless
    the ``paused`` setting itself is what changed.
    """
    desired = managed(settings, task_types)
    results = [await apply_one(client, settings, want) for want in desired]
    results += await _delete_undeclared(client, settings, {d.id for d in desired})
    return results


async def apply_one(client: Client, settings: Settings, want: Managed) -> ApplyResult:
    handle = client.get_schedule_handle(want.id)
    current = await describe_or_none(handle)
    if current is None:
        await create(client, settings, want)
        return ApplyResult(want.name, want.id, "created", want.kind)
    if (await ours(client, current)).get("fingerprint") != want.fingerprint():
        await handle.update(_replace_with(client, want))
        return ApplyResult(want.name, want.id, "updated", want.kind)
    return ApplyResult(want.name, want.id, "unchanged", want.kind)


async def create(client: Client, settings: Settings, want: Managed) -> None:
    """Create the schedule, marked as ours (its memo names our task queue) for listing."""
    await client.create_schedule(want.id, want.to_schedule(), memo={MEMO_KEY: settings.task_queue})


async def our_schedule_ids(client: Client, settings: Settings) -> AsyncIterator[str]:
    """The ids of the schedules this runner manages, as the listing has them: under our
    id prefix and marked as ours (see :func:`create`). Others' are never touched."""
    async for listed in await client.list_schedules():
        if not listed.id.startswith(settings.schedules.id_prefix):
            continue
        if (await listed.memo()).get(MEMO_KEY) == settings.task_queue:
            yield listed.id


def _replace_with(
    client: Client, want: Managed
) -> Callable[[ScheduleUpdateInput], Awaitable[ScheduleUpdate]]:
    async def update(input: ScheduleUpdateInput) -> ScheduleUpdate:
        schedule = want.to_schedule()
        old = input.description.schedule
        if (await ours(client, input.description)).get("paused") == want.paused:
            schedule.state = old.state  # the setting did not change: keep an operator's pause
        return ScheduleUpdate(schedule=schedule)

    return update


async def _delete_undeclared(
    client: Client, settings: Settings, keep: set[str]
) -> list[ApplyResult]:
    deleted = []
    async for sid in our_schedule_ids(client, settings):
        if sid in keep:
            continue
        handle = client.get_schedule_handle(sid)
        current = await describe_or_none(handle)
        if current is None:
            continue  # deleted since it was listed
        entry = await ours(client, current)
        if entry.get("origin") == CLI_ORIGIN:
            continue  # a job added from the CLI: only `jobs remove` ends it
        await handle.delete()
        deleted.append(ApplyResult(sid, sid, "deleted", str(entry.get("kind", "schedule"))))
    return deleted
