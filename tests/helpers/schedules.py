"""Schedules on the dev server: their fire times without waiting, and the runs they started."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.workflowservice.v1 import ListScheduleMatchingTimesRequest
from temporalio.client import Client

from tests.helpers import assert_eventually

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
