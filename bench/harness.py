"""Servers, workers and statistics shared by the benchmarks."""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from taskrunner.devserver import DevServer


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    mode: str
    """memory (no persistence) or sqlite (a SQLite file, like `make run`)."""
    client: Client
    server: DevServer

    @staticmethod
    def task_queue() -> str:
        return f"bench-{uuid.uuid4().hex[:8]}"


@contextlib.asynccontextmanager
async def dev_server(mode: str) -> AsyncIterator[Server]:
    """The embedded dev server in ``mode``, fresh for one group of measurements."""
    with tempfile.TemporaryDirectory(prefix="taskrunner-bench-") as tmp:
        data_dir = Path(tmp) if mode == "sqlite" else None
        server = DevServer(
            data_dir, port=free_port(), ui_port=None, log_file=Path(tmp) / "server.log"
        )
        server.start()
        try:
            client = await Client.connect(server.address, data_converter=pydantic_data_converter)
            yield Server(mode, client, server)
        finally:
            server.stop()


@dataclass
class Figure:
    """One measured figure: the median of several runs."""

    name: str
    unit: str
    mode: str
    samples: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")
