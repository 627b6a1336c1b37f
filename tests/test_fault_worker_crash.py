"""A worker killed with SIGKILL mid-queue: a new worker finishes the queue, nothing lost.

Once with one activity per task, once on the fast path (``ledgered_fast``: 20 tasks a
call) with 200 tasks in flight: the killed worker's calls time out and their tasks retry.
"""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from taskrunner.devserver import DevServer
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import (
    TaskSpec,
    TaskStatus,
)
from tests.helpers import assert_eventually, free_port
from tests.helpers.ledger_worker import executions
from tests.helpers.processes import kill, start_ledger_worker
from tests.helpers.queue import assert_accounted

pytestmark = pytest.mark.faults


@pytest.mark.parametrize(
    ("task_type", "tasks", "concurrency", "sleep_ms"),
    [
        pytest.param("ledgered", 200, 10, 80, id="one activity per task"),
        pytest.param("ledgered_fast", 1000, 200, 500, id="bundled, 200 in flight"),
    ],
)
async def test_sigkilled_worker_loses_no_task_and_reruns_only_those_in_flight(
    tmp_path: Path, make_settings: Any, task_type: str, tasks: int, concurrency: int, sleep_ms: int
) -> None:
    TASKS, CONCURRENCY = tasks, concurrency
    server = DevServer(data_dir=tmp_path / "server", port=free_port(), ui_port=None)
    ledger = tmp_path / "ledger.db"
    settings = make_settings(queue={"max_concurrency": CONCURRENCY, "recent_limit": TASKS})
    workers: list[subprocess.Popen[bytes]] = []

    def start_worker() -> None:
        workers.append(
            start_ledger_worker(
                server.address,
                settings.task_queue,
                settings.data_dir,
                ledger,
                tmp_path / "worker.log",
            )
        )

    try:
        server.start()
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        queue = QueueClient(client, settings, "crash")
        start_worker()
        payload = {"sleep_ms": sleep_ms}
        specs = [TaskSpec(type=task_type, payload={**payload, "n": i}) for i in range(TASKS)]
        ids = (await queue.enqueue_batch(specs)).task_ids
        assert len(set(ids)) == TASKS

        async def some_ran() -> None:
            assert len(executions(ledger)) >= TASKS // 4

        await assert_eventually(some_ran, timeout=120)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=30)
        ran_before_restart = len(set(executions(ledger)))
        assert ran_before_restart < TASKS, "the worker finished before it was killed"

        start_worker()
        drained = await queue.drain(through_retries=True)
        assert drained.done

        stats = await queue.stats()
        assert_accounted(stats)
        assert stats.completed == stats.enqueued == TASKS
        assert stats.failed == stats.pending == stats.running == 0
        # recent_limit keeps every completed task listable here.
        records = {r.id: r for r in await queue.list(limit=TASKS * 2)}
        assert set(records) == set(ids)
        assert all(r.status == TaskStatus.COMPLETED for r in records.values())

        runs = Counter(executions(ledger))
        assert set(runs) == set(ids), "some task never ran"
        twice = sorted(t for t, n in runs.items() if n > 1)
        print(f"\n{len(twice)} of {TASKS} tasks ran twice (in flight at the SIGKILL)")
        # The queue counted every run as an attempt. An attempt the killed worker had
        # received but not begun (the ledger is written as the activity starts) is
        # counted once more: it timed out and ran again on the new worker.
        unbegun = sorted(t for t, r in records.items() if r.attempts == runs[t] + 1)
        assert all(r.attempts in (runs[t], runs[t] + 1) for t, r in records.items())
        # Only what the killed worker held (at most CONCURRENCY tasks) ran or counted twice.
        assert len(twice) + len(unbegun) <= CONCURRENCY, (twice, unbegun)
    finally:
        for proc in workers:
            kill(proc)
        server.stop()
