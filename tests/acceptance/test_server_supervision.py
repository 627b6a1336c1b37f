"""The runner supervises its embedded server: killed under a steady enqueue, it is back in
seconds on the same data, and nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from taskrunner import supervisor
from taskrunner.devserver import DevServer
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec
from tests.helpers import assert_eventually, free_port
from tests.helpers.terminal import running_runner

pytestmark = pytest.mark.devserver

BATCH = 5
EMAIL = {"recipient": "ops@example.com", "subject": "soak", "body": "steady enqueue"}


async def test_a_killed_server_is_restarted_and_enqueues_resume(tmp_path: Path) -> None:
    async with running_runner(tmp_path) as runner:
        queue = QueueClient(runner.client, runner.settings)
        acknowledged: list[str] = []
        refused = 0
        killed_at: float | None = None
        back_at: float | None = None
        while back_at is None or time.monotonic() < back_at + 3:
            try:
                batch = await asyncio.wait_for(
                    queue.enqueue_batch([TaskSpec(type="email", payload=EMAIL)] * BATCH), 10
                )
                acknowledged += batch.task_ids
                if killed_at is not None and back_at is None:
                    back_at = time.monotonic()
            except Exception:
                refused += 1
            if killed_at is None and len(acknowledged) >= 4 * BATCH:
                runner.server_process().kill()
                killed_at = time.monotonic()
            assert killed_at is None or time.monotonic() - killed_at < 60, runner.terminal.output
            await asyncio.sleep(0.2)
        assert killed_at is not None and back_at - killed_at < 20, (back_at, killed_at)
        await asyncio.to_thread(runner.terminal.read_until, "Temporal server is back after", 30)
        assert "Temporal server exited unexpectedly (status -9); restarting it" in (
            runner.terminal.output
        )

        async def all_done() -> None:
            stats = await queue.stats()
            assert stats.completed == len(acknowledged), (stats, len(acknowledged))

        await assert_eventually(all_done, timeout=60)
        stats = await queue.stats()
        assert stats.failed == 0 and stats.pending == 0
    assert runner.terminal.code == 130, runner.terminal.output


async def test_the_runner_gives_up_after_repeated_failed_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(supervisor, "RESTART_DELAYS", (0.01,))
    server = DevServer(tmp_path, port=free_port(), ui_port=None).start()
    lines: list[str] = []
    with socket.socket() as squatter:
        try:
            server.stop()
            squatter.bind(("127.0.0.1", server.port))  # the port is taken: every start fails
            squatter.listen()
            code = await asyncio.wait_for(supervisor.supervise(server, lines.append), 30)
        finally:
            server.stop()
    assert code == supervisor.GAVE_UP
    failed = [line for line in lines if "restart" in line and "failed" in line]
    assert len(failed) == supervisor.MAX_FAILED_STARTS, lines
    assert "is already in use" in failed[0]
    assert lines[-1] == "giving up: the Temporal server did not start 5 times in a row"


async def test_a_runner_whose_server_cannot_come_back_exits_1(tmp_path: Path) -> None:
    async with running_runner(tmp_path) as runner:
        server = runner.server_process()
        port = runner.settings.server_port
        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.kill()
            server.wait(10)
            squatter.bind(("127.0.0.1", port))  # every restart now finds the port taken
            squatter.listen()
            code = await asyncio.to_thread(runner.terminal.wait, 90)
    assert code == supervisor.GAVE_UP, runner.terminal.output
    output = runner.terminal.output
    assert output.count(f"failed: port {port} on 127.0.0.1 is already in use") == 5, output
    assert "giving up: the Temporal server did not start 5 times in a row" in output
    # No graceful wait for a worker that has no server to report to.
    assert "Stopping now: without a server, running tasks will be retried later" in output
    assert "Traceback" not in output
