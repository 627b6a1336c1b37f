"""Each probe kind against a real peer: up, and down with a reason."""

from __future__ import annotations

import asyncio

from taskrunner.health.probes import run_probe
from taskrunner.settings.health import (
    AmqpProbe,
    HttpProbe,
    PostgresProbe,
    RedisProbe,
    TcpProbe,
)
from tests.helpers import free_port
from tests.helpers.peers import http_peer

POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


async def test_tcp_probe_is_up_against_a_listener() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        status = await run_probe(TcpProbe(name="api", host="127.0.0.1", port=port))
    assert status.up, status.detail
    assert status.latency_ms >= 0


async def test_tcp_probe_is_down_on_a_closed_port() -> None:
    status = await run_probe(TcpProbe(name="api", host="127.0.0.1", port=free_port()))
    assert not status.up
    assert "refused" in (status.detail or "").lower()


async def test_http_probe_checks_the_expected_status() -> None:
    with http_peer() as peer:
        peer.routes["/broken"] = (503, b"down")
        ok = await run_probe(HttpProbe(name="api", url=f"{peer.url}/health"))
        broken = await run_probe(HttpProbe(name="api", url=f"{peer.url}/broken"))
    assert ok.up and ok.detail == "HTTP 200"
    assert not broken.up and "503" in (broken.detail or "")
    assert [r.path for r in peer.requests] == ["/health", "/broken"]


async def test_postgres_probe_runs_select_one() -> None:
    status = await run_probe(PostgresProbe(name="database", dsn=POSTGRES_DSN))
    assert status.up, status.detail


async def test_postgres_probe_is_down_on_a_closed_port() -> None:
    dsn = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    status = await run_probe(PostgresProbe(name="database", dsn=dsn))
    assert not status.up and status.detail


async def test_redis_probe_pings() -> None:
    status = await run_probe(RedisProbe(name="cache", url=REDIS_URL))
    assert status.up, status.detail
    assert status.detail == "PONG"


async def test_redis_probe_is_down_on_a_closed_port() -> None:
    status = await run_probe(RedisProbe(name="cache", url=f"redis://127.0.0.1:{free_port()}/0"))
    assert not status.up and status.detail


async def test_amqp_probe_opens_a_connection() -> None:
    status = await run_probe(AmqpProbe(name="queue", url=AMQP_URL))
    assert status.up, status.detail


async def test_amqp_probe_is_down_with_bad_credentials() -> None:
    url = "amqp://guest:wrong-password@127.0.0.1:5672/"
    status = await run_probe(AmqpProbe(name="queue", url=url, timeout_seconds=10))
    assert not status.up and status.detail


async def test_probe_timeout_marks_a_hanging_service_down() -> None:
    # A listener that accepts but never answers HTTP: the probe's own timeout ends it.
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        spec = HttpProbe(name="slow", url=f"http://127.0.0.1:{port}/", timeout_seconds=0.5)
        status = await run_probe(spec)
    assert not status.up
    assert status.latency_ms < 5000
