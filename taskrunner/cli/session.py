"""Where a command's Temporal comes from: an existing server or the embedded one."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

from temporalio.client import Client

from taskrunner.client import connect, remote_address_configured
from taskrunner.devserver import DevServer, port_open
from taskrunner.settings import Settings


@dataclass
class Session:
    client: Client
    server: DevServer | None
    """The embedded server this session started (None: it was already there)."""
    ui_url: str | None


@contextlib.asynccontextmanager
async def temporal_session(settings: Settings, *, worker: bool = True) -> AsyncIterator[Session]:
    """Connect to Temporal, starting the embedded dev server when none is configured or running.

    With ``worker``, an in-process worker serves the runner's task queue for the
    session, so one-shot commands work without a separate ``taskrunner run``.
    """
    server = None
    ui_url = None
    if not remote_address_configured():
        ui_url = f"http://127.0.0.1:{settings.ui_port}"
        if not port_open("127.0.0.1", settings.server_port):
            server = await asyncio.to_thread(
                DevServer(settings.data_dir, settings.server_port, settings.ui_port).start
            )
    try:
        client = await connect(settings)
        session = Session(client=client, server=server, ui_url=ui_url)
        if worker:
            from taskrunner.worker import build_worker

            async with build_worker(client, settings):
                yield session
        else:
            yield session
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)


class StopSignal(asyncio.Event):
    """Set by the first SIGINT or SIGTERM; remembers which, for the exit status.

    The worker then shuts down gracefully (in-flight activities get time to finish) and
    the embedded server stops last. A second signal does not wait: it exits at once.
    """

    def __init__(self) -> None:
        super().__init__()
        self.signal: signal.Signals | None = None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._received, sig)

    def _received(self, sig: signal.Signals) -> None:
        if self.is_set():
            sys.stderr.write("Stopping now (second signal): in-flight tasks will be retried\n")
            sys.stderr.flush()
            os._exit(128 + sig)
        self.signal = sig
        self.set()

    @property
    def exit_code(self) -> int:
        """128 + the signal number, the shell's convention (130 for Ctrl-C); 0 if none."""
        return 128 + self.signal if self.signal is not None else 0


def stop_event() -> StopSignal:
    """An event set by SIGINT or SIGTERM (Ctrl-C stops cleanly, no traceback)."""
    return StopSignal()
