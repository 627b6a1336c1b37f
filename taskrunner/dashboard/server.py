"""Serving the dashboard: uvicorn as a task of the caller's event loop, stopped gracefully."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass

import uvicorn
from temporalio.client import Client

from taskrunner.dashboard.app import build_app
from taskrunner.errors import ConfigError
from taskrunner.settings import Settings

STOP_SECONDS = 5.0
"""How long open requests get to finish when the dashboard stops."""


class _Server(uvicorn.Server):
    """uvicorn, leaving the signals to its host: ``taskrunner run`` (and ``dashboard``)
    stop on their own SIGINT/SIGTERM handling, and stop the dashboard with the rest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass(frozen=True)
class DashboardServer:
    url: str
    """Where it answers, e.g. ``http://127.0.0.1:8235``."""


def listen(host: str, port: int) -> socket.socket:
    """The dashboard's listening socket, or one line naming the setting to change."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except OSError as err:
        raise ConfigError(
            f"the dashboard cannot listen on {host}:{port} ({err.strerror}); stop what runs "
            "there or set dashboard.port (TASKRUNNER_DASHBOARD__PORT)"
        ) from None


@contextlib.asynccontextmanager
async def dashboard_server(settings: Settings, client: Client) -> AsyncIterator[DashboardServer]:
    """Serve the dashboard while the block runs (in this process and event loop).

    Refuses to start, in one line, beyond loopback without a token, or when its port is
    taken. Leaving the block stops it: open requests get ``STOP_SECONDS`` to finish.
    """
    config = settings.dashboard
    app = build_app(settings, client)
    sock = listen(config.host, config.port)
    server = _Server(
        uvicorn.Config(
            app,
            lifespan="off",
            log_config=None,  # the host's logging: the runner's log file and console
            log_level="warning",  # not a line per start and stop
            access_log=False,
            timeout_graceful_shutdown=int(STOP_SECONDS),
        )
    )
    serving = asyncio.create_task(server.serve(sockets=[sock]), name="dashboard")
    try:
        while not server.started:
            if serving.done():
                serving.result()  # its failure, as it is
                raise ConfigError("the dashboard stopped as it started")
            await asyncio.sleep(0.01)
        host, port = sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        yield DashboardServer(url=f"http://{shown}:{port}")
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(serving), STOP_SECONDS + 2)
        except TimeoutError:
            server.force_exit = True
            serving.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await serving
        finally:
            sock.close()
