"""Real local peers started by tests: a TCP listener and an HTTP server."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpPeer:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    routes: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    """path -> (status, body) for GET; unknown paths answer 200 ``ok``."""
    redirects: dict[str, str] = field(default_factory=dict)
    """path -> where a 302 answer to it points (its ``Location``), before ``routes``."""
    hold: int = 0
    """Hold this many next requests unanswered (recorded) until ``release`` is set."""
    holding: threading.Event = field(default_factory=threading.Event)
    """Set once a request is being held."""
    release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take_hold(self) -> bool:
        """Whether the request arriving now is one to hold (counted down, thread-safe)."""
        with self._lock:
            if self.hold <= 0:
                return False
            self.hold -= 1
            return True


@contextlib.contextmanager
def http_peer() -> Iterator[HttpPeer]:
    """A threaded HTTP server on a free port that records every request."""
    peer = HttpPeer(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            peer.requests.append(Recorded(self.path, dict(self.headers.items()), body))
            if peer.take_hold():
                peer.holding.set()
                peer.release.wait(timeout=120)
            status, payload = peer.routes.get(self.path, (200, b"ok"))
            location = peer.redirects.get(self.path)
            try:
                self.send_response(302 if location is not None else status)
                if location is not None:
                    self.send_header("Location", location)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client went away (a held request whose sender was killed)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        peer.url = url
        try:
            yield peer
        finally:
            peer.release.set()


@contextlib.contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served by a threaded HTTP server on a free loopback port: its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
