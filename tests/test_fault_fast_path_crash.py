"""The fast path under a SIGKILL: 200 short bundled tasks in flight, none lost.

The killed worker's calls time out (the type's 5 s start-to-close); each task in them
counts that attempt as failed and retries on the next worker. Only tasks in flight at
the kill (at most the queue's concurrency) run twice or take an extra attempt.
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
from taskrunner.queue.models import TaskSpec, TaskStatus
from tests.helpers import assert_eventually, free_port
from tests.helpers.ledger_worker import executions
from tests.helpers.processes import kill, start_ledger_worker
from tests.helpers.queue import assert_accounted

pytestmark = pytest.mark.faults

TASKS = 1000
IN_FLIGHT = 200
"""The queue's concurrency: this many tasks run at once (ten calls of 20)."""


async def test_sigkill_with_200_bundled_tasks_in_flight_loses_none(
    tmp_path: Path, make_settings: Any
) -> None:
    server = DevServer(data_dir=tmp_path / "server", port=free_port(), ui_port=None)
    ledger = tmp_path / "ledger.db"
    settings = make_settings(queue={"max_concurrency": IN_FLIGHT, "recent_limit": TASKS})
    workers: list[subprocess.Popen[bytes]] = []

    def start_worker() -> None:
        log = tmp_path / "worker.log"
        workers.append(
            start_ledger_worker(server.address, settings.task_queue, settings.data_dir, ledger, log)
        )

    try:
        server.start()
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        queue = QueueClient(client, settings, "fast-crash")
        start_worker()
        specs = [
            TaskSpec(type="ledgered_fast", payload={"n": i, "sleep_ms": 500}) for i in range(TASKS)
        ]
        ids = (await queue.enqueue_batch(specs)).task_ids

        async def in_flight() -> None:
            assert len(executions(ledger)) >= TASKS // 3

        await assert_eventually(in_flight, timeout=120, interval=0.05)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(timeout=30)
        assert len(set(executions(ledger))) < TASKS, "the worker finished before it was killed"

        start_worker()
        drained = await queue.drain(through_retries=True)
        assert drained.done
        stats = await queue.stats()
        assert_accounted(stats)
        assert stats.completed == stats.enqueued == TASKS
        assert stats.failed == stats.pending == stats.running == 0
        records = {r.id: r for r in await queue.list(limit=TASKS * 2)}
        assert set(records) == set(ids)
        assert all(r.status == TaskStatus.COMPLETED for r in records.values())

        runs = Counter(executions(ledger))
        assert set(runs) == set(ids), "some task never ran"
        twice = sorted(t for t, n in runs.items() if n > 1)
        print(f"\n{len(twice)} of {TASKS} bundled tasks ran twice (in flight at the SIGKILL)")
        # Every run was an attempt; a task the killed worker held but had not begun
        # (the ledger is written as it starts) counts one attempt more than its runs.
        unbegun = sorted(t for t, r in records.items() if r.attempts == runs[t] + 1)
        assert all(r.attempts in (runs[t], runs[t] + 1) for t, r in records.items())
        assert len(twice) + len(unbegun) <= IN_FLIGHT, (twice, unbegun)
    finally:
        for proc in workers:
            kill(proc)
        server.stop()
