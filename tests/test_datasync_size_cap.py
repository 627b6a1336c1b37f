"""dataSync's size cap (data_sync.max_source_bytes) on HTTP bodies whose size is not
declared: counted as read, refused at the cap, the rest never read, nothing written.

A local server frames the body itself: chunked, or delimited by closing the connection
(no Content-Length either way), or with a Content-Length smaller than what it sends.
"""

from __future__ import annotations

import contextlib
import http.server
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError

from tests.helpers.peers import serving
from tests.test_datasync_sources import refused
from tests.test_task_data_sync import sqlite_rows, sync

CAP = 64 * 1024
NOTE = "x" * 4000
"""Each record's padding: a body over the cap holds few records (cheap if it were parsed)."""
STREAMED = 64 * 1024 * 1024
"""What the server offers: more than loopback's socket buffers can hold unread."""


@dataclass
class Streamer:
    url: str
    framing: str = "chunked"
    """``chunked``, ``close`` (the end of the body is the end of the connection) or
    ``false-length`` (a Content-Length smaller than the cap, then the whole body)."""
    total: int = STREAMED
    finished: bool = False
    """Set when the whole body was written (the client read on to its end)."""


def record(number: int) -> bytes:
    return json.dumps({"id": number, "note": NOTE}).encode()


def body(total: int) -> Iterator[bytes]:
    """A JSON array of padded records numbered from 1, ``total`` bytes or fewer, a record
    a piece."""
    yield b"["
    size, number = 2, 1
    while size + len(record(number)) + 1 <= total:
        yield (b"," if number > 1 else b"") + record(number)
        size, number = size + len(record(number)) + 1, number + 1
    yield b"]"


@contextlib.contextmanager
def streamer() -> Iterator[Streamer]:
    """A threaded HTTP server on a free port that streams ``total`` bytes of records."""
    peer = Streamer(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if peer.framing == "chunked":
                self.send_header("Transfer-Encoding", "chunked")
            elif peer.framing == "false-length":
                self.send_header("Content-Length", "16")
            else:
                self.close_connection = True
                self.send_header("Connection", "close")
            self.end_headers()
            try:
                for piece in body(peer.total):
                    if peer.framing == "chunked":
                        piece = b"%x\r\n%s\r\n" % (len(piece), piece)
                    self.wfile.write(piece)
                if peer.framing == "chunked":
                    self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                peer.finished = True
            except OSError:
                self.close_connection = True  # the client stopped reading and hung up

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serving(Handler) as url:
        peer.url = url
        yield peer


def capped(make_settings: Any, url: str) -> Any:
    return make_settings(data_sync={"allowed_urls": [f"{url}/"], "max_source_bytes": CAP})


@pytest.mark.parametrize("framing", ["chunked", "close"])
async def test_a_body_without_content_length_under_the_cap_syncs(
    make_settings: Any, framing: str
) -> None:
    with streamer() as peer:
        peer.framing, peer.total = framing, CAP // 2
        settings = capped(make_settings, peer.url)
        result = await sync(settings, f"{peer.url}/records.json", table="notes")
    assert peer.finished
    count = len(list(body(CAP // 2))) - 2  # the pieces but "[" and "]"
    assert count > 4 and result.details["records_synced"] == count
    assert sqlite_rows(settings, "SELECT count(*), min(length(note)) FROM notes") == [
        (count, len(NOTE))
    ]


@pytest.mark.parametrize("framing", ["chunked", "close"])
async def test_a_body_without_content_length_over_the_cap_is_refused_unread(
    make_settings: Any, framing: str
) -> None:
    with streamer() as peer:
        peer.framing = framing
        settings = capped(make_settings, peer.url)
        source = f"{peer.url}/records.json"
        message = await refused(settings, source, "data_sync.max_source_bytes")
    assert message == f"source {source} is larger than {CAP} bytes (data_sync.max_source_bytes)"
    # The reader hung up at the cap: the 64 MiB offered were never all taken.
    assert not peer.finished


async def test_a_content_length_smaller_than_the_body_is_all_that_is_read(
    make_settings: Any,
) -> None:
    """The client keeps to the declared length: the bytes past it (over the cap) are never
    read, so the source is refused for what those 16 bytes are (not JSON), not its size."""
    with streamer() as peer:
        peer.framing = "false-length"
        settings = capped(make_settings, peer.url)
        with pytest.raises(ApplicationError) as caught:
            await sync(settings, f"{peer.url}/records.json")
    message = caught.value.message
    assert caught.value.type == "InvalidTaskData" and caught.value.non_retryable, message
    assert message.startswith(f"source {peer.url}/records.json is not JSON: "), message
    assert "\n" not in message
    assert not settings.sqlite_path(settings.database).exists()
    assert not peer.finished
