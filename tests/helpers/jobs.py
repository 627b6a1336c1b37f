"""Periodic jobs on the dev server: settings with a job of the test's own, and its tasks."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from temporalio.client import Client

from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskRecord
from taskrunner.settings import Settings
from taskrunner.tasks.builtin import BUILTIN_TASK_TYPES
from taskrunner.tasks.registry import TaskRegistry
from tests.helpers import assert_eventually
from tests.helpers.queue import Ledger

JobSettingsFactory = Callable[..., Settings]


def job_settings_factory(make_settings: Any, queue: str) -> JobSettingsFactory:
    """``build(*jobs)``: settings with these jobs (into ``queue`` unless they name one), and
    schedule ids under a prefix of this test's own (the dev server is shared)."""
    prefix = f"j{uuid.uuid4().hex[:8]}-"

    def build(*jobs: dict[str, Any], **overrides: Any) -> Settings:
        declared = [{"queue": queue, **job} for job in jobs]
        overrides.setdefault("timezone", "Europe/Berlin")
        settings: Settings = make_settings(
            schedules={"id_prefix": prefix}, jobs=declared, **overrides
        )
        return settings

    return build


def ledger_registry() -> TaskRegistry:
    """The built-in task types plus the ledger's test types (for apply's checks)."""
    return BUILTIN_TASK_TYPES.including(*Ledger().task_types())


async def job_tasks(queue: QueueClient, key_prefix: str) -> list[TaskRecord]:
    """Every task of the queue whose idempotency key starts with ``key_prefix``."""
    tasks = await queue.list(limit=10_000)
    return sorted(
        (t for t in tasks if (t.spec.key or "").startswith(key_prefix)), key=lambda t: t.seq
    )


async def fire_runs(client: Client, schedule_id: str, count: int) -> list[Any]:
    """The fire runs of a job's schedule, once at least ``count`` exist and all have closed."""

    async def closed() -> list[Any]:
        runs = [
            w async for w in client.list_workflows(f"WorkflowId STARTS_WITH '{schedule_id}/run'")
        ]
        assert len(runs) >= count, f"{len(runs)} fire runs of {count}"
        assert all(w.status and w.status.name != "RUNNING" for w in runs), [
            (w.id, w.status) for w in runs
        ]
        return runs

    return await assert_eventually(closed, timeout=120, interval=0.5)
