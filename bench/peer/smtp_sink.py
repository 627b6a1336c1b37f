"""A local SMTP server (aiosmtpd) in a subprocess that counts the messages it accepts.

It runs in a process of its own so that, on either side, receiving the mail costs
the benchmark process nothing. Protocol on its stdin/stdout: it prints ``ready``
once listening, then answers each ``count`` line with the number of messages
accepted so far; end of stdin stops it.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import free_port
from bench.peer.processes import log_tail, start_group, stop_group
from bench.peer.worker import ROOT, PeerUnavailable

HOST = "127.0.0.1"


@dataclass
class Sink:
    host: str
    port: int
    proc: subprocess.Popen[Any]
    log: Path

    def count(self) -> int:
        """Messages the server has accepted (answered 250 to) so far."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"the SMTP sink died: {log_tail(self.log)}")
        return int(answer)


@contextlib.contextmanager
def smtp_sink(log_dir: Path) -> Iterator[Sink]:
    """The sink on a free loopback port, stopped (its process group gone) on the way out."""
    port = free_port()
    log = log_dir / f"smtp-{port}.log"
    command = [sys.executable, "-m", "bench.peer.smtp_sink", HOST, str(port)]
    proc = start_group(command, log, ROOT, stdin=subprocess.PIPE, PYTHONPATH=str(ROOT))
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise PeerUnavailable(f"the SMTP sink did not start: {log_tail(log)}")
        yield Sink(HOST, port, proc, log)
    finally:
        stop_group(proc)


def serve(host: str, port: int) -> None:
    from aiosmtpd.controller import Controller

    accepted = 0
    lock = threading.Lock()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            nonlocal accepted
            with lock:
                accepted += 1
            return "250 OK"

    controller = Controller(Handler(), hostname=host, port=port)
    controller.start()
    try:
        print("ready", flush=True)
        for line in sys.stdin:
            if line.strip() == "count":
                with lock:
                    print(accepted, flush=True)
    finally:
        controller.stop()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
