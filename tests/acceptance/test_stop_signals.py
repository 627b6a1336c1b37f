"""``taskrunner run`` in a real terminal: Ctrl-C (and SIGTERM) with a task in flight let the
task finish exactly once, then stop the embedded server; no process is left."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import os
import signal
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from taskrunner.devserver import DevServer
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec
from taskrunner.settings import Settings, load_settings
from tests.helpers import free_port
from tests.helpers.cli import cli_env
from tests.helpers.terminal import Terminal

TASK_SECONDS = 4.0
"""How long the in-flight task takes (its HTTP source answers this late)."""


class SlowSource:
    """An HTTP source that answers one JSON record after TASK_SECONDS, counting requests."""

    def __init__(self) -> None:
        self.requests = 0
        source = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                source.requests += 1
                time.sleep(TASK_SECONDS)
                body = json.dumps([{"id": 1, "name": "slow"}]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/records"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def slow_source() -> Iterator[SlowSource]:
    source = SlowSource()
    yield source
    source.server.shutdown()


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
async def test_stopping_the_runner_lets_the_running_task_finish_once(
    tmp_path: Path, slow_source: SlowSource, how: str
) -> None:
    port, ui_port = free_port(), free_port()
    env = cli_env(
        TASKRUNNER_SERVER_PORT=str(port),
        TASKRUNNER_UI_PORT=str(ui_port),
        TASKRUNNER_TASK_QUEUE=f"run-{port}",
        TASKRUNNER_DATA_SYNC__ALLOWED_URLS=json.dumps([slow_source.url]),
    )
    run = Terminal(["run"], tmp_path, env)
    children: list[psutil.Process] = []
    code: int | None = None
    try:
        run.read_until("Press Ctrl-C to stop.", timeout=90)
        children = psutil.Process(run.pid).children(recursive=True)
        settings = load_settings(data_dir=tmp_path / ".taskrunner", task_queue=f"run-{port}")
        client = await Client.connect(f"127.0.0.1:{port}", data_converter=pydantic_data_converter)
        queue = QueueClient(client, settings)
        payload = {"source": slow_source.url, "destination": "slow_records"}
        task = await queue.enqueue(TaskSpec(type="dataSync", payload=payload))
        while slow_source.requests == 0:  # the task is in flight
            await asyncio.sleep(0.05)
        if how == "ctrl-c":
            run.ctrl_c()  # the terminal signals the whole foreground group
        else:
            os.kill(run.pid, signal.SIGTERM)  # as systemd or Docker: the runner alone
        started = time.monotonic()
        code = await asyncio.to_thread(run.wait, 60)
        took = time.monotonic() - started
    finally:
        if code is None:  # it never exited by itself (a failure above): leave nothing
            with contextlib.suppress(ProcessLookupError):
                os.kill(run.pid, signal.SIGKILL)
                os.waitpid(run.pid, 0)
    assert code == (130 if how == "ctrl-c" else 143), run.output
    assert took < 25, f"stopping took {took:.1f} s"
    assert "Stopping: running tasks get 20 s to finish" in run.output
    assert "Traceback" not in run.output, run.output
    time.sleep(0.5)
    left = [p.pid for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not left, f"left running: {left}"

    # The task's one attempt completed before the server stopped: reopen its data and read
    # the queue's history (no worker runs now to answer a query).
    with DevServer(tmp_path / ".taskrunner", port=free_port(), ui_port=None) as server:
        client = await Client.connect(server.address, data_converter=pydantic_data_converter)
        events = [e async for e in queue_history(client, settings)]
    scheduled = [
        e.activity_task_scheduled_event_attributes.activity_id
        for e in events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    ours = [a for a in scheduled if a.startswith(task.task_id)]
    assert ours == [f"{task.task_id}-1"], scheduled  # one attempt, never a second
    assert sum(e.HasField("activity_task_completed_event_attributes") for e in events) >= 1
    assert not any(e.HasField("activity_task_timed_out_event_attributes") for e in events)
    assert slow_source.requests == 1


async def queue_history(client: Client, settings: Settings) -> AsyncIterator[Any]:
    async for event in QueueClient(client, settings).handle.fetch_history_events():
        yield event
