"""Task types from the user's own package: declared with @task_type, loaded by the worker
from ``task_modules``, checked at enqueue like the built-in ones."""

from __future__ import annotations

import signal
import sys
import textwrap
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from taskrunner.devserver import DevServer
from taskrunner.errors import ConfigError, UserError
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec, TaskStatus
from taskrunner.settings import Settings
from taskrunner.tasks.loading import task_registry
from taskrunner.worker import build_worker
from tests.helpers.cli import popen_cli, run_cli
from tests.helpers.queue import end_queue

USER_MODULE = """
    import asyncio, threading
    from datetime import timedelta
    from pydantic import Field
    from temporalio.common import RetryPolicy
    from taskrunner import TaskContext, TaskPayload, task_type

    class ResizePayload(TaskPayload):
        path: str
        width: int = Field(gt=0)

    @task_type("resize", payload=ResizePayload, timeout=timedelta(seconds=30),
               retry=RetryPolicy(maximum_attempts=1))
    def resize(payload: ResizePayload, ctx: TaskContext) -> dict:
        return {"summary": f"resized {payload.path} to {payload.width}",
                "thread": threading.current_thread().name, "attempt": ctx.attempt}

    @task_type("beat", payload=ResizePayload, heartbeat=timedelta(seconds=30),
               retry=RetryPolicy(maximum_attempts=1))
    def beat(payload: ResizePayload, ctx: TaskContext) -> str:
        for n in range(3):
            ctx.heartbeat({"done": n})  # from the thread pool
        return "beat 3 times"

    @task_type("ping", payload=ResizePayload)
    async def ping(payload: ResizePayload, ctx: TaskContext) -> str:
        await asyncio.sleep(0)
        return f"pong {ctx.task_id} on {threading.current_thread().name}"
"""


@pytest.fixture
def user_package(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A module outside the runner's source, on its own folder (``task_path``)."""
    name = f"user_tasks_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / f"{name}.py").write_text(textwrap.dedent(USER_MODULE))
    yield folder, name
    sys.modules.pop(name, None)
    sys.path[:] = [p for p in sys.path if p != str(folder.resolve())]


@pytest.fixture
def user_settings(make_settings: Any, user_package: tuple[Path, str]) -> Settings:
    folder, name = user_package
    settings: Settings = make_settings(task_path=[folder], task_modules=[name])
    return settings


@pytest.fixture
async def user_queue(client: Client, user_settings: Settings) -> AsyncIterator[QueueClient]:
    """A fresh queue served by a worker built from the user's settings (its task_modules)."""
    queue = QueueClient(client, user_settings, f"user-{uuid.uuid4().hex[:8]}")
    async with build_worker(client, user_settings):
        try:
            yield queue
        finally:
            await end_queue(queue)


async def test_a_worker_runs_the_users_sync_and_async_task_types(user_queue: QueueClient) -> None:
    queue = user_queue
    resized = await queue.enqueue(TaskSpec(type="resize", payload={"path": "a.png", "width": 64}))
    pinged = await queue.enqueue(TaskSpec(type="ping", payload={"path": "b", "width": 1}))
    beaten = await queue.enqueue(TaskSpec(type="beat", payload={"path": "c", "width": 1}))
    await queue.drain()
    resize, ping = await queue.show(resized.task_id), await queue.show(pinged.task_id)
    beat = await queue.show(beaten.task_id)
    assert resize.status is TaskStatus.COMPLETED and ping.status is TaskStatus.COMPLETED
    assert resize.result is not None and resize.result.summary == "resized a.png to 64"
    assert resize.result.details["attempt"] == 1
    # Sync in the thread pool, async on the worker's event loop.
    assert resize.result.details["thread"] != threading.main_thread().name
    assert ping.result is not None
    assert ping.result.summary == f"pong {pinged.task_id} on {threading.main_thread().name}"
    # A sync handler heartbeats from its thread (the SDK's heartbeat wants the loop's).
    assert beat.status is TaskStatus.COMPLETED, beat.last_error
    assert beat.result is not None and beat.result.summary == "beat 3 times"


async def test_a_bad_payload_for_a_user_type_is_refused_at_enqueue(
    user_queue: QueueClient,
) -> None:
    with pytest.raises(UserError) as err:
        await user_queue.enqueue(TaskSpec(type="resize", payload={"path": "a", "width": 0}))
    stats = await user_queue.stats()
    assert str(err.value) == (
        "invalid payload for task type 'resize': width: Input should be greater than 0"
    )
    assert stats.total == 0


def test_the_registry_is_the_builtins_plus_the_users(user_settings: Settings) -> None:
    registry = task_registry(user_settings)
    assert set(registry) == {"email", "report", "dataSync", "resize", "beat", "ping"}
    assert registry["resize"].retry_policy.maximum_attempts == 1
    # Bad data is never retried, whatever the user's policy lists.
    assert "InvalidTaskData" in (registry["ping"].retry_policy.non_retryable_error_types or [])


@pytest.mark.parametrize(
    ("module", "source", "message"),
    [
        ("nowhere_to_be_found", None, "cannot import task module 'nowhere_to_be_found' (No module"),
        ("empty_tasks", "X = 1\n", "task module 'empty_tasks' declares no task type"),
        ("broken_tasks", "1 / 0\n", "task module 'broken_tasks' failed while importing: Zero"),
        (
            "clash_tasks",
            "from taskrunner import TaskPayload, task_type\n"
            "@task_type('email', payload=TaskPayload)\ndef email(p, ctx): pass\n",
            "task type 'email' is declared twice",
        ),
    ],
)
def test_a_bad_task_module_is_one_line(
    make_settings: Any, tmp_path: Path, module: str, source: str | None, message: str
) -> None:
    if source is not None:
        (tmp_path / f"{module}.py").write_text(source)
    settings = make_settings(task_path=[tmp_path], task_modules=[module])
    try:
        with pytest.raises(ConfigError) as err:
            task_registry(settings)
    finally:
        sys.modules.pop(module, None)
    assert str(err.value).startswith(message), err.value
    assert "\n" not in str(err.value)


def test_the_cli_refuses_a_bad_user_payload_and_a_missing_module(
    tmp_path: Path, user_package: tuple[Path, str]
) -> None:
    folder, name = user_package
    env = {"TASKRUNNER_TASK_PATH": f'["{folder}"]', "TASKRUNNER_TASK_MODULES": f'["{name}"]'}
    bad = run_cli("enqueue", "resize", "--data", '{"path": "a", "width": -1}', cwd=tmp_path, **env)
    assert bad.returncode == 2, bad
    assert bad.stderr == (
        "error: invalid payload for task type 'resize': width: Input should be greater than 0\n"
    )
    missing = run_cli("worker", "--task-module", "no_such_module", cwd=tmp_path)
    assert missing.returncode == 2, missing
    assert missing.stderr.startswith("error: cannot import task module 'no_such_module'")
    assert missing.stderr.count("\n") == 1


@pytest.mark.devserver
def test_the_worker_loads_a_task_module_named_on_its_command_line(
    tmp_path: Path, user_package: tuple[Path, str], dev_server: DevServer
) -> None:
    folder, name = user_package
    worker = popen_cli(
        "worker",
        "--task-module",
        name,
        cwd=tmp_path,
        TEMPORAL_ADDRESS=dev_server.address,
        TASKRUNNER_TASK_PATH=f'["{folder}"]',
        TASKRUNNER_TASK_QUEUE=f"user-{uuid.uuid4().hex[:8]}",
    )
    try:
        assert worker.stdout is not None
        first = worker.stdout.readline()
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=60)
    assert first.endswith("(task types: beat, dataSync, email, ping, report, resize)\n"), first
    assert worker.returncode == 130
