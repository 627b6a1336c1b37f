"""Schedules on the dev server: their fire times without waiting, and the runs they started."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.workflowservice.v1 import ListScheduleMatchingTimesRequest
from temporalio.client import Client

from taskrunner.schedules.apply import describe_or_none
from tests.helpers import assert_eventually
from tests.helpers.cli import cli_env
from tests.helpers.terminal import Terminal

UTC = ZoneInfo("UTC")


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


async def fire_times(
    client: Client, schedule_id: str, start: datetime, end: datetime
) -> list[datetime]:
    """When the schedule fires between ``start`` and ``end`` (aware, UTC), asked of the server."""
    response = await client.workflow_service.list_schedule_matching_times(
        ListScheduleMatchingTimesRequest(
            namespace=client.namespace,
            schedule_id=schedule_id,
            start_time=timestamp(start),
            end_time=timestamp(end),
        )
    )
    return [t.ToDatetime().replace(tzinfo=UTC) for t in response.start_time]


async def finished_runs(client: Client, prefix: str, guards: int) -> list[Any]:
    """The runs whose ids start with ``prefix``, once ``guards`` daily guards and all the
    runs they started have completed."""

    async def all_finished() -> list[Any]:
        runs = [w async for w in client.list_workflows(f"WorkflowId STARTS_WITH '{prefix}'")]
        started = [w for w in runs if w.workflow_type == "DailyMaintenanceWorkflow"]
        assert len(started) >= guards, len(started)
        assert all(w.status and w.status.name == "COMPLETED" for w in runs), [
            (w.id, w.status) for w in runs
        ]
        return runs

    return await assert_eventually(all_finished, timeout=120, interval=1)


async def schedule_exists(client: Client, schedule_id: str) -> bool:
    """Whether the server has the schedule (any other failure of the call is raised)."""
    return await describe_or_none(client.get_schedule_handle(schedule_id)) is not None


async def delete_schedules(client: Client, prefix: str) -> None:
    """Delete every schedule whose id starts with ``prefix`` (a test's own, on the shared
    dev server)."""
    async for listed in await client.list_schedules():
        if listed.id.startswith(prefix):
            await client.get_schedule_handle(listed.id).delete()


def answered_on_a_terminal(
    args: list[str], cwd: Path, env: dict[str, str], answer: bytes
) -> Terminal:
    """A command that asks first (``schedules delete``, ``jobs remove``), run on a terminal
    and given ``answer``; ended."""
    terminal = Terminal(args, cwd, cli_env(**env))
    try:
        terminal.read_until("[y/N] ", timeout=60)
        os.write(terminal.fd, answer)
        terminal.wait(60)
    finally:
        terminal.kill()
    return terminal
