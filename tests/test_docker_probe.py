"""The docker probe against real containers in a Docker engine the test run starts."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from taskrunner.health.models import ServiceStatus
from taskrunner.health.probes import run_probe
from taskrunner.settings.health import DockerProbe
from tests.helpers import assert_eventually
from tests.helpers.docker_engine import DockerEngine

pytestmark = pytest.mark.docker

# Health checks run every 0.5 s; a loaded machine may still take a while to settle.
HEALTH_SETTLE_SECONDS = 60


async def probe(engine: DockerEngine, role: str) -> ServiceStatus:
    container = engine.containers.get(role, f"{engine.label}-{role}")
    return await run_probe(
        DockerProbe(name=role, container=container, docker_host=engine.host, timeout_seconds=30)
    )


async def test_docker_probe_is_up_for_a_running_container(docker_engine: DockerEngine) -> None:
    status = await probe(docker_engine, "running")
    assert status.up, status.detail
    assert status.detail == "running"
    assert status.kind == "docker" and status.latency_ms >= 0


async def test_docker_probe_is_up_once_the_health_check_passes(
    docker_engine: DockerEngine,
) -> None:
    async def healthy() -> ServiceStatus:
        status = await probe(docker_engine, "healthy")
        assert status.up, status.detail
        return status

    status = await assert_eventually(healthy, timeout=HEALTH_SETTLE_SECONDS, interval=0.5)
    assert status.detail == "running, healthy"


async def test_docker_probe_is_down_when_the_health_check_fails(
    docker_engine: DockerEngine,
) -> None:
    async def unhealthy() -> ServiceStatus:
        status = await probe(docker_engine, "unhealthy")
        assert "unhealthy" in (status.detail or ""), status.detail
        return status

    status = await assert_eventually(unhealthy, timeout=HEALTH_SETTLE_SECONDS, interval=0.5)
    assert not status.up


async def test_docker_probe_is_down_while_the_health_check_is_starting(
    docker_engine: DockerEngine,
) -> None:
    # This container's first health check is an hour away: it stays "starting".
    status = await probe(docker_engine, "starting")
    assert not status.up
    assert "starting" in (status.detail or ""), status.detail


async def test_docker_probe_is_down_for_an_exited_container(docker_engine: DockerEngine) -> None:
    status = await probe(docker_engine, "stopped")
    assert not status.up
    assert "exited" in (status.detail or ""), status.detail


async def test_docker_probe_is_down_for_a_missing_container(docker_engine: DockerEngine) -> None:
    status = await probe(docker_engine, "never-created")
    assert not status.up
    assert "not found" in (status.detail or ""), status.detail


async def test_docker_probe_is_down_when_the_engine_socket_is_missing(tmp_path: Path) -> None:
    missing = tmp_path / "no-engine.sock"
    status = await run_probe(
        DockerProbe(name="app", container="app", docker_host=f"unix://{missing}")
    )
    assert not status.up
    assert f"no Docker engine socket at {missing}" in (status.detail or ""), status.detail


async def test_docker_probe_is_down_when_nothing_listens_on_the_socket(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    # A socket file left behind by an engine that is gone: connecting is refused.
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    status = await run_probe(DockerProbe(name="app", container="app", docker_host=f"unix://{path}"))
    assert not status.up
    assert f"Docker engine at unix://{path} does not answer" in (status.detail or ""), status.detail
