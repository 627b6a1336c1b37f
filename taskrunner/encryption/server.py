"""The codec server: Temporal's ``/encode`` and ``/decode`` endpoints over our codec.

The web UI (and ``temporal`` CLI, ``--codec-endpoint``) send payloads here to show them
decrypted. Beyond loopback every request needs ``Authorization: Bearer <token>``; CORS
answers only the listed web UI origins.
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import logging
import os
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.json_format import MessageToJson, Parse, ParseError
from temporalio.api.common.v1 import Payloads

from taskrunner.encryption.codec import EncryptionCodec, PayloadKeyError
from taskrunner.encryption.keys import KeyRing, load_keys
from taskrunner.errors import ConfigError
from taskrunner.settings import Settings

MAX_BODY_BYTES = 32 * 1024 * 1024
"""A request larger than this is refused (a payload is at most 2 MB)."""
ALLOWED_HEADERS = (
    "Content-Type, X-Namespace, Authorization, Caller-Type, Client-Name, Client-Version"
)

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CodecServer:
    """One codec HTTP server in a background thread (``start``/``stop``, or ``with``)."""

    def __init__(
        self,
        codec: EncryptionCodec,
        host: str,
        port: int,
        token: str | None,
        origins: list[str],
        token_env: str = "TASKRUNNER_CODEC_TOKEN",
    ) -> None:
        if not is_loopback(host) and not token:
            raise ConfigError(
                f"the codec server would listen on {host}, beyond loopback, without a token; "
                f"set {token_env} to a long random secret, or set encryption.codec_host "
                "(TASKRUNNER_ENCRYPTION__CODEC_HOST) to 127.0.0.1"
            )
        self.codec, self.token, self.origins = codec, token, set(origins)
        try:
            self._http = ThreadingHTTPServer((host, port), self._handler())
        except OSError as err:
            raise ConfigError(
                f"the codec server cannot listen on {host}:{port} ({err.strerror}); stop what "
                "runs there or set encryption.codec_port (TASKRUNNER_ENCRYPTION__CODEC_PORT)"
            ) from None
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start(self) -> CodecServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def __enter__(self) -> CodecServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                log.debug("codec server: " + format, *args)

            def do_OPTIONS(self) -> None:  # CORS preflight: carries no credentials
                self._answer(HTTPStatus.NO_CONTENT, b"")

            def do_POST(self) -> None:
                operation = self.path.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
                if operation not in ("encode", "decode"):
                    return self._answer(HTTPStatus.NOT_FOUND, b"only /encode and /decode\n")
                if not server._authorized(self.headers.get("Authorization", "")):
                    return self._answer(HTTPStatus.UNAUTHORIZED, b"a bearer token is needed\n")
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    return self._answer(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"too large\n")
                try:
                    payloads = Parse(self.rfile.read(length) or b"{}", Payloads())
                except ParseError as err:
                    return self._answer(HTTPStatus.BAD_REQUEST, f"{err}\n".encode())
                codec = server.codec
                convert = codec.encode_sync if operation == "encode" else codec.decode_sync
                try:
                    done = convert(payloads.payloads)
                except PayloadKeyError as err:
                    return self._answer(HTTPStatus.BAD_REQUEST, f"{err}\n".encode())
                body = MessageToJson(Payloads(payloads=done)).encode()
                self._answer(HTTPStatus.OK, body, "application/json")

            def _answer(self, status: HTTPStatus, body: bytes, kind: str = "text/plain") -> None:
                self.send_response(status)
                origin = self.headers.get("Origin")
                if origin and origin.rstrip("/") in server.origins:
                    self.send_header("Access-Control-Allow-Origin", origin)
                    self.send_header("Access-Control-Allow-Credentials", "true")
                    self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")
                    self.send_header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
                    self.send_header("Vary", "Origin")
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        return Handler

    def _authorized(self, header: str) -> bool:
        if not self.token:
            return True
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), self.token)


def codec_server(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    ring: KeyRing | None = None,
) -> CodecServer:
    """The codec server the settings describe, for the embedded UI and the listed origins,
    with ``ring`` when the caller has read the keys already.

    Without a key it would decode and encode nothing, so it is refused."""
    config = settings.encryption
    ring = ring or load_keys(config)
    if ring is None:
        raise ConfigError(
            f"no encryption key is configured: set {config.key_env} or encryption.key_file "
            "(make a key with: taskrunner encryption-key)"
        )
    ui = [f"http://{name}:{settings.ui_port}" for name in ("127.0.0.1", "localhost")]
    return CodecServer(
        EncryptionCodec(ring),
        host or config.codec_host,
        config.codec_port if port is None else port,
        os.environ.get(config.codec_token_env) or None,
        [*ui, *config.codec_origins],
        token_env=config.codec_token_env,
    )
