"""Worker processes: the same fast no-op tasks over 4 queues, run by
``taskrunner worker --processes N`` (a real subprocess per worker), N = 1 and 2."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench.harness import Server
from bench.noop_declared import PROCESS_NOOP_TYPE
from bench.queue_setup import specs
from taskrunner.queue.client import QueueClient
from taskrunner.settings import Settings, load_settings
from taskrunner.status.collect import worker_facts

ROOT = Path(__file__).resolve().parents[2]
QUEUES = 4
READY_SECONDS = 60.0


def _workers(
    server: Server, task_queue: str, data_dir: str, processes: int, env_extra: dict[str, str]
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKRUNNER_", "TEMPORAL_"))}
    env |= {
        "TEMPORAL_ADDRESS": server.server.address,
        "TASKRUNNER_TASK_QUEUE": task_queue,
        "TASKRUNNER_DATA_DIR": data_dir,
        "TASKRUNNER_METRICS__ENABLED": "false",
        "TASKRUNNER_WORKER__IDENTITY": f"bench-{task_queue}",
        **env_extra,
    }
    argv = [sys.executable, "-c", "from starter import main; main()", "worker"]
    argv += ["--processes", str(processes), "--task-module", "bench.noop_declared"]
    log = open(Path(data_dir) / "workers.log", "ab")  # noqa: SIM115 - the child holds it
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )


@contextlib.asynccontextmanager
async def worker_processes(
    server: Server, processes: int, env: dict[str, str] | None = None, **queue: Any
) -> AsyncIterator[Settings]:
    """``taskrunner worker --processes N`` on a fresh task queue, polling; the settings a
    client of it uses (``queue`` overrides queue settings, ``env`` the workers')."""
    task_queue = server.task_queue()
    with tempfile.TemporaryDirectory(prefix="taskrunner-bench-procs-") as tmp:
        workers = _workers(server, task_queue, tmp, processes, env or {})
        settings = load_settings(data_dir=Path(tmp), task_queue=task_queue, queue=queue)
        try:
            deadline = time.monotonic() + READY_SECONDS
            while len(await worker_facts(server.client, settings)) < processes:
                if workers.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"the worker processes did not start (see {tmp}/workers.log)"
                    )
                await asyncio.sleep(0.2)
            yield settings
        finally:
            workers.send_signal(signal.SIGTERM)
            try:
                workers.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(workers.pid, signal.SIGKILL)
                workers.wait()


async def processes_per_second(
    server: Server, processes: int, tasks: int, concurrency: int
) -> float:
    """``tasks`` fast no-op tasks split over 4 queues; tasks/s from the first enqueue to
    the last drain, with ``processes`` worker processes polling."""
    async with worker_processes(server, processes, max_concurrency=concurrency) as settings:
        queues = [
            QueueClient(server.client, settings, f"bench-procs-{uuid.uuid4().hex[:6]}-{i}")
            for i in range(QUEUES)
        ]
        for queue in queues:  # create each queue's workflow first, untimed
            await queue.enqueue_batch(specs(1, PROCESS_NOOP_TYPE))
            await queue.drain(max_outcomes=0)
        share = tasks // QUEUES

        async def one(queue: QueueClient) -> None:
            await queue.enqueue_batch(specs(share, PROCESS_NOOP_TYPE))
            assert (await queue.drain(max_outcomes=0)).done

        started = time.perf_counter()
        await asyncio.gather(*(one(queue) for queue in queues))
        return share * QUEUES / (time.perf_counter() - started)
