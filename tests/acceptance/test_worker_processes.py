"""``taskrunner worker --processes 2`` in a terminal: two pollers with their own
identities share the task queue; one Ctrl-C stops both gracefully; a SIGKILL of the
parent still stops them (none is left behind)."""

from __future__ import annotations

import os
import signal
import uuid
from pathlib import Path
from typing import Any

import psutil
from temporalio.client import Client

from taskrunner.devserver import DevServer
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec
from taskrunner.status.collect import worker_facts
from tests.helpers import assert_eventually
from tests.helpers.cli import cli_env, run_cli
from tests.helpers.terminal import Terminal


def start(tmp_path: Path, dev_server: DevServer, settings: Any) -> Terminal:
    env = cli_env(
        TEMPORAL_ADDRESS=dev_server.address,
        TASKRUNNER_TASK_QUEUE=settings.task_queue,
        TASKRUNNER_DATA_DIR=str(settings.data_dir),
        TASKRUNNER_WORKER__IDENTITY="procs",
    )
    terminal = Terminal(["worker", "--processes", "2"], tmp_path, env)
    try:
        terminal.read_until("Metrics at", 60)
        while terminal.output.count("Worker polling") < 2:
            terminal.read_until("Worker polling", 60)
            terminal.read(0.5)
    except BaseException:
        terminal.kill()
        raise
    return terminal


async def test_two_processes_share_the_work_and_stop_on_one_ctrl_c(
    tmp_path: Path, dev_server: DevServer, dev_client: Client, make_settings: Any
) -> None:
    settings = make_settings()
    terminal = start(tmp_path, dev_server, settings)
    try:
        children = psutil.Process(terminal.pid).children()
        assert len(children) == 2

        async def both_poll() -> None:
            identities = {w.identity for w in await worker_facts(dev_client, settings)}
            assert identities >= {"procs-1", "procs-2"}

        await assert_eventually(both_poll, timeout=30)
        queues = [
            QueueClient(dev_client, settings, f"procs-{uuid.uuid4().hex[:6]}-{i}") for i in range(4)
        ]
        for queue in queues:
            spec = TaskSpec(
                type="email", payload={"recipient": "ops@example.com", "subject": "s", "body": "b"}
            )
            await queue.enqueue_batch([spec] * 10)
        for queue in queues:
            assert (await queue.drain()).done
            assert (await queue.stats()).completed == 10
        assert len(list((settings.data_dir / "outbox").iterdir())) == 40

        terminal.ctrl_c()
        assert terminal.wait(60) == 130
        assert "Stopping 2 worker processes" in terminal.output
        assert not [c.pid for c in children if c.is_running() and c.status() != "zombie"]
    finally:
        terminal.kill()


async def test_a_sigkilled_parent_takes_its_worker_processes_along(
    tmp_path: Path, dev_server: DevServer, make_settings: Any
) -> None:
    terminal = start(tmp_path, dev_server, make_settings())
    try:
        children = psutil.Process(terminal.pid).children()
        assert len(children) == 2
        os.kill(terminal.pid, signal.SIGKILL)
        _, alive = psutil.wait_procs(children, timeout=60)
        assert not alive, f"worker processes outlived their parent: {alive}"
    finally:
        terminal.kill()


def test_a_process_count_or_a_bundle_that_cannot_be_is_one_line(tmp_path: Path) -> None:
    none = run_cli("worker", "--processes", "0", cwd=tmp_path)
    assert (none.returncode, none.stderr) == (2, "error: --processes 0: give 1 to 64\n")
    long = run_cli("worker", cwd=tmp_path, TASKRUNNER_QUEUE__BUNDLES='{"report": 5}')
    assert long.returncode == 2
    assert long.stderr.startswith(
        "error: queue.bundles.report: task type 'report': a bundled task type runs at most 60 s"
    )
    assert long.stderr.count("\n") == 1
