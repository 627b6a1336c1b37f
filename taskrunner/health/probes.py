"""One probe function per service kind. Each raises when the service is not usable."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from taskrunner.health.models import ServiceStatus
from taskrunner.settings.health import (
    AmqpProbe,
    DockerProbe,
    HttpProbe,
    PostgresProbe,
    RedisProbe,
    TcpProbe,
)

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
"""Where the docker SDK looks when neither the probe nor DOCKER_HOST names an engine."""


async def probe_tcp(spec: TcpProbe) -> str:
    _, writer = await asyncio.open_connection(spec.host, spec.port)
    writer.close()
    await writer.wait_closed()
    return f"{spec.host}:{spec.port} accepts connections"


async def probe_http(spec: HttpProbe) -> str:
    async with httpx.AsyncClient(timeout=spec.timeout_seconds, follow_redirects=False) as http:
        response = await http.get(spec.url)
    if response.status_code != spec.expected_status:
        raise RuntimeError(f"HTTP {response.status_code}, expected {spec.expected_status}")
    return f"HTTP {response.status_code}"


async def probe_postgres(spec: PostgresProbe) -> str:
    import psycopg

    timeout = max(1, int(spec.timeout_seconds))
    async with await psycopg.AsyncConnection.connect(spec.dsn, connect_timeout=timeout) as conn:
        cursor = await conn.execute("SELECT 1")
        row = await cursor.fetchone()
    if row != (1,):
        raise RuntimeError(f"SELECT 1 returned {row!r}")
    return "SELECT 1 ok"


async def probe_redis(spec: RedisProbe) -> str:
    import redis.asyncio as aioredis

    client: Any = aioredis.from_url(spec.url, socket_connect_timeout=spec.timeout_seconds)
    try:
        if not await client.ping():
            raise RuntimeError("PING did not return PONG")
    finally:
        await client.aclose()
    return "PONG"


async def probe_amqp(spec: AmqpProbe) -> str:
    import aio_pika

    connection = await aio_pika.connect(spec.url, timeout=spec.timeout_seconds)
    await connection.close()
    return "connection opened"


async def probe_docker(spec: DockerProbe) -> str:
    return await asyncio.to_thread(_docker_container_state, spec)


def _docker_container_state(spec: DockerProbe) -> str:
    from docker.errors import NotFound

    client = _docker_client(spec)
    try:
        container = client.containers.get(spec.container)
    except NotFound:
        raise RuntimeError(f"container {spec.container!r} not found") from None
    finally:
        client.close()
    state = container.attrs.get("State", {})
    status = state.get("Status", "unknown")
    if status != "running":
        raise RuntimeError(f"container is {status}")
    health = (state.get("Health") or {}).get("Status")
    if health is not None and health != "healthy":
        raise RuntimeError(f"container is running but its health check says {health}")
    return "running" + (f", {health}" if health else "")


def _docker_client(spec: DockerProbe) -> Any:
    """Connect to the probe's engine, or say plainly which engine could not be reached."""
    import docker
    from docker.errors import DockerException

    host = spec.docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
    socket = host.removeprefix("unix://") if host.startswith("unix://") else None
    if socket is not None and not os.path.exists(socket):
        raise RuntimeError(f"no Docker engine socket at {socket}")
    timeout = int(spec.timeout_seconds) or 1
    try:
        if spec.docker_host:
            return docker.DockerClient(base_url=spec.docker_host, timeout=timeout)
        # from_env also honours DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
        return docker.from_env(timeout=timeout)
    except DockerException as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RuntimeError(f"Docker engine at {host} does not answer: {reason}") from None


PROBES: dict[str, Callable[[Any], Awaitable[str]]] = {
    "tcp": probe_tcp,
    "http": probe_http,
    "postgres": probe_postgres,
    "redis": probe_redis,
    "amqp": probe_amqp,
    "docker": probe_docker,
}


async def run_probe(spec: Any) -> ServiceStatus:
    """Run one probe under its own timeout. A down service is a result, never an exception."""
    started = time.perf_counter()
    up, detail = True, ""
    try:
        detail = await asyncio.wait_for(PROBES[spec.kind](spec), timeout=spec.timeout_seconds)
    except TimeoutError:
        up, detail = False, f"no answer within {spec.timeout_seconds:g}s"
    except Exception as err:
        up, detail = False, _describe(err)
    latency = (time.perf_counter() - started) * 1000
    return ServiceStatus(
        name=spec.name, kind=spec.kind, up=up, latency_ms=round(latency, 1), detail=detail
    )


def _describe(err: BaseException) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if isinstance(err, OSError) and err.strerror:
        text = err.strerror.lower()
    return f"{type(err).__name__}: {text}"[:300] if text else type(err).__name__
