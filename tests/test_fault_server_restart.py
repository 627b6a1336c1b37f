"""The dev server stopped mid-queue (SIGTERM, SIGKILL) and started again on its SQLite file."""

from __future__ import annotations

import signal
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from taskrunner.devserver import DevServer
from taskrunner.queue.models import (
    TaskSpec,
    TaskStatus,
)
from taskrunner.schedules import operations as schedule_ops
from tests.helpers import assert_eventually, free_port
from tests.helpers.queue import assert_accounted, running_queue

pytestmark = pytest.mark.faults

TASKS = 120


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_queue_failed_list_and_schedules_survive_a_server_restart(
    tmp_path: Path, make_settings: Any, sig: signal.Signals
) -> None:
    port = free_port()
    data = tmp_path / "server"
    server = DevServer(data_dir=data, port=port, ui_port=None)
    settings = make_settings(
        queue={"max_concurrency": 5, "recent_limit": TASKS},
        schedules={"id_prefix": f"r{uuid.uuid4().hex[:8]}-"},
    )
    try:
        server.start()
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        await schedule_ops.apply_schedules(client, settings)
        await schedule_ops.pause(client, settings, "maintenance", "before the restart")
        before = {
            name: (await schedule_ops.view(client, settings, name)).paused
            for name in ("health-monitor", "task-processor", "maintenance")
        }
        assert before == {"health-monitor": False, "task-processor": False, "maintenance": True}

        async with running_queue(client, settings) as h:
            doomed = (await h.queue.enqueue(TaskSpec(type="doomed"))).task_id
            await h.queue.drain(through_retries=True)
            assert (await h.queue.show(doomed)).status == TaskStatus.FAILED
            specs = [
                TaskSpec(type="sleepy", payload={"n": i, "sleep_ms": 100}) for i in range(TASKS)
            ]
            ids = (await h.queue.enqueue_batch(specs)).task_ids

            async def some_completed() -> None:
                assert (await h.queue.stats()).completed >= 10

            await assert_eventually(some_completed, timeout=60)
            assert (await h.queue.stats()).completed < TASKS, "the queue finished too early"
            server.stop(sig)
            server = DevServer(data_dir=data, port=port, ui_port=None).start()

            # The same state, read through the same client and worker (both reconnect).
            async def state_is_back() -> None:
                stats = await h.queue.stats()
                assert stats.enqueued == TASKS + 1 and stats.failed == 1

            await assert_eventually(state_is_back, timeout=60, interval=0.5)
            failed = await h.queue.list(TaskStatus.FAILED)
            assert [t.id for t in failed] == [doomed]
            assert failed[0].last_error == "DiskOnFire: the disk is on fire"
            after = {
                name: (await schedule_ops.view(client, settings, name)).paused for name in before
            }
            assert after == before
            assert (await schedule_ops.view(client, settings, "maintenance")).note == (
                "before the restart"
            )

            # Processing resumes to the end.
            drained = await h.queue.drain(through_retries=True)
            assert drained.done
            stats = await h.queue.stats()
            assert_accounted(stats)
            assert stats.completed == TASKS and stats.failed == 1
            assert stats.pending == stats.running == 0
            assert all(h.ledger.executions[t] >= 1 for t in ids)
            records = {r.id: r for r in await h.queue.list(TaskStatus.COMPLETED, limit=TASKS)}
            assert set(records) == set(ids)
    finally:
        server.stop()
