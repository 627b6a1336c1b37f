"""Schedule operations against the server: inspect, trigger, pause, backfill, delete.

(Applying the declarations is taskrunner/schedules/apply.py.)
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from temporalio.client import (
    Client,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionResult,
    ScheduleBackfill,
    ScheduleHandle,
    ScheduleOverlapPolicy,
)

from taskrunner.errors import UserError
from taskrunner.schedules.apply import ApplyResult as ApplyResult
from taskrunner.schedules.apply import apply_schedules as apply_schedules
from taskrunner.schedules.apply import describe_or_none, ours
from taskrunner.schedules.declarations import schedule_id
from taskrunner.settings import Settings


async def managed_handle(client: Client, settings: Settings, name: str) -> ScheduleHandle:
    """The handle of a declared schedule that exists on the server (else a UserError)."""
    sid = schedule_id(settings, name)
    handle = client.get_schedule_handle(sid)
    if await describe_or_none(handle) is None:
        raise UserError(
            f"schedule {name!r} does not exist on the server; run `taskrunner schedules apply`"
        )
    return handle


@dataclass(frozen=True)
class ScheduleView:
    """What `schedules list` and `describe` show for one schedule."""

    name: str
    id: str
    workflow: str
    cron: list[str]
    timezone: str
    paused: bool
    note: str | None
    overlap: str
    catchup_window: str
    next_runs: list[datetime]
    last_run: datetime | None
    last_workflow_id: str | None
    last_result: str | None


async def view(client: Client, settings: Settings, name: str, next_count: int = 3) -> ScheduleView:
    handle = await managed_handle(client, settings, name)
    desc = await handle.describe()
    zone = ZoneInfo(desc.schedule.spec.time_zone_name or "UTC")
    action = desc.schedule.action
    last = desc.info.recent_actions[-1] if desc.info.recent_actions else None
    last_id = getattr(last.action, "workflow_id", None) if last else None
    result = None
    if last is not None and last_id:
        wf = await client.get_workflow_handle(last_id).describe()
        result = wf.status.name.lower() if wf.status else "unknown"
    policy = desc.schedule.policy
    return ScheduleView(
        name=name,
        id=desc.id,
        workflow=getattr(action, "workflow", "?"),
        cron=(await ours(client, desc)).get("cron") or ["?"],
        timezone=str(zone),
        paused=desc.schedule.state.paused,
        note=desc.schedule.state.note,
        overlap=policy.overlap.name.lower(),
        catchup_window=str(policy.catchup_window),
        next_runs=[t.astimezone(zone) for t in desc.info.next_action_times[:next_count]],
        last_run=last.scheduled_at.astimezone(zone) if last else None,
        last_workflow_id=last_id,
        last_result=result,
    )


TRIGGER_WAIT_SECONDS = 10.0
"""How long ``trigger`` watches for the run it asked for (the server starts it a moment later)."""


@dataclass(frozen=True)
class Triggered:
    """What a trigger started: the run's ids, or why none is known."""

    workflow_id: str | None = None
    run_id: str | None = None
    skipped: bool = False
    """The schedule's overlap policy skipped it: its previous run is still going."""


async def trigger(client: Client, settings: Settings, name: str) -> Triggered:
    """Start the schedule's workflow now, and find the run that the server started.

    The server takes the trigger and starts the run asynchronously, under the
    schedule's overlap policy, so this watches the schedule's actions for a new one.
    """
    return await trigger_handle(await managed_handle(client, settings, name))


async def trigger_handle(handle: ScheduleHandle) -> Triggered:
    """Trigger the schedule and find the run the server started (see :func:`trigger`)."""
    before = (await handle.describe()).info
    seen = {_started(a)[0] for a in before.recent_actions}
    await handle.trigger()
    deadline = time.monotonic() + TRIGGER_WAIT_SECONDS
    delay = 0.05
    while True:
        info = (await handle.describe()).info
        new = [ids for ids in map(_started, info.recent_actions) if ids[0] not in seen]
        if info.num_actions > before.num_actions and new:
            return Triggered(workflow_id=new[-1][0], run_id=new[-1][1])
        if info.num_actions_skipped_overlap > before.num_actions_skipped_overlap:
            return Triggered(skipped=True)
        if time.monotonic() > deadline:
            return Triggered()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.5)


def _started(action: ScheduleActionResult) -> tuple[str | None, str | None]:
    """The workflow id and first run id a schedule action started."""
    started = action.action
    if isinstance(started, ScheduleActionExecutionStartWorkflow):
        return started.workflow_id, started.first_execution_run_id
    return None, None


async def pause(client: Client, settings: Settings, name: str, note: str | None) -> None:
    await (await managed_handle(client, settings, name)).pause(note=note or "paused from the CLI")


async def unpause(client: Client, settings: Settings, name: str, note: str | None) -> None:
    await (await managed_handle(client, settings, name)).unpause(
        note=note or "unpaused from the CLI"
    )


async def backfill(
    client: Client, settings: Settings, name: str, start: datetime, end: datetime
) -> None:
    if end <= start:
        raise UserError(f"backfill end {end.isoformat()} is not after start {start.isoformat()}")
    handle = await managed_handle(client, settings, name)
    # BUFFER_ALL: every past fire time runs, one after the other (the schedule's own
    # SKIP policy would drop all but the first of a backfill that starts at once).
    await handle.backfill(
        ScheduleBackfill(start_at=start, end_at=end, overlap=ScheduleOverlapPolicy.BUFFER_ALL)
    )


async def delete(client: Client, settings: Settings, name: str) -> None:
    await (await managed_handle(client, settings, name)).delete()
