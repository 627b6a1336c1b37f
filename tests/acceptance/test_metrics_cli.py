"""The installed CLI's worker serves Prometheus metrics; a second one on its address is
refused in one line; the short commands bind nothing."""

from __future__ import annotations

import asyncio
import re
import signal
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

from taskrunner.devserver import DevServer
from tests.helpers import assert_eventually, free_port
from tests.helpers.cli import popen_cli, run_cli
from tests.helpers.cli_worker import polled
from tests.helpers.prometheus import scrape, value

pytestmark = pytest.mark.devserver


async def test_the_worker_serves_metrics_and_a_second_one_on_its_address_is_refused(
    tmp_path: Path, dev_server: DevServer, dev_client: Client
) -> None:
    address = f"127.0.0.1:{free_port()}"
    queue = f"metrics-{uuid.uuid4().hex[:8]}"
    env = {
        "TEMPORAL_ADDRESS": dev_server.address,
        "TASKRUNNER_TASK_QUEUE": f"metrics-{uuid.uuid4().hex[:8]}",
        "TASKRUNNER_QUEUE__NAME": queue,
        "TASKRUNNER_TASK_MODULES": '["tests.helpers.job_tasks"]',
        "TASKRUNNER_METRICS__ADDRESS": address,
    }
    worker = popen_cli("worker", cwd=tmp_path, **env)
    try:
        await polled(dev_client, env["TASKRUNNER_TASK_QUEUE"])
        # A short command with the same settings binds no port: it works beside the worker.
        enqueued = await asyncio.to_thread(
            run_cli, "enqueue", "tally", "--data", '{"n": 1}', cwd=tmp_path, **env
        )
        assert enqueued.returncode == 0, enqueued

        async def counted() -> list[tuple[str, dict[str, str], float]]:
            samples = await scrape(f"http://{address}/metrics")
            done = value(samples, "taskrunner_tasks_total", queue=queue, outcome="completed")
            assert done == 1, [s for s in samples if s[0].startswith("taskrunner_")]
            return samples

        samples = await assert_eventually(counted)
        assert value(samples, "taskrunner_task_duration_seconds_count", type="tally") == 1
        assert any(name.startswith("temporal_") for name, _, _ in samples)

        for command in ("worker", "run"):  # run: TEMPORAL_ADDRESS is set, so no server of its own
            second = await asyncio.to_thread(run_cli, command, cwd=tmp_path, **env)
            assert second.returncode == 2, second
            assert second.stderr == (
                f"error: metrics address {address} is already in use (another worker?); set "
                "metrics.address (TASKRUNNER_METRICS__ADDRESS) to a free host:port of this "
                "machine, or metrics.enabled = false (TASKRUNNER_METRICS__ENABLED=false)\n"
            )
    finally:
        worker.send_signal(signal.SIGINT)
        out, _ = worker.communicate(timeout=60)
    assert f"Metrics at http://{address}/metrics\n" in out
    assert re.search(r"Worker polling .* \(task types: .*tally.*\)\n", out), out
