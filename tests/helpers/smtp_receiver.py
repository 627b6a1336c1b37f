"""A real SMTP server (aiosmtpd) started by a test, recording what it receives."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.helpers import free_port

Security = Literal["none", "starttls", "ssl"]
"""The values of ``smtp.security``."""


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    senders: list[str] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)
    """Answers to the next DATA commands (e.g. ``451 4.3.0 Try again later``), then 250."""
    data_commands: int = 0
    """Messages offered (DATA commands), accepted or not."""
    connections: int = 0
    """EHLO greetings: one per connection (plus one after each STARTTLS)."""
    data_delay: float = 0.0
    """Seconds each DATA command takes to answer (a slow server: sends overlap more)."""
    in_flight: int = 0
    max_in_flight: int = 0
    """Most DATA commands being answered at once: how many emails were sent at once."""


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1 made with the openssl CLI (cert, key)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            *(openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"),
            *("-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Calls:
    count: int = 0


def count_tls_contexts(monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Count ``ssl.create_default_context`` calls from now on (the real one still runs).

    Start receivers first: a TLS receiver builds contexts of its own when it starts.
    """
    calls, real = Calls(), ssl.create_default_context

    def counting(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        calls.count += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", counting)
    return calls


@contextlib.contextmanager
def smtp_receiver(
    username: str | None = None,
    password: str | None = None,
    tls: Literal["starttls", "ssl"] | None = None,
    certificate: tuple[Path, Path] | None = None,
    port: int | None = None,
) -> Iterator[Mailbox]:
    """An SMTP server on a free port; with ``username``, it checks logins against it.

    With ``tls`` (and a ``certificate``), it offers STARTTLS and refuses mail (and
    AUTH) without it, or speaks TLS from the first byte (``ssl``).
    """
    box = Mailbox(host="127.0.0.1", port=port or free_port())

    class Handler:
        async def handle_EHLO(
            self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
        ) -> list[str]:
            box.connections += 1
            session.host_name = hostname
            return responses

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            box.data_commands += 1
            box.in_flight += 1
            box.max_in_flight = max(box.max_in_flight, box.in_flight)
            try:
                await asyncio.sleep(box.data_delay)
            finally:
                box.in_flight -= 1
            if box.replies:
                return box.replies.pop(0)
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            box.messages.append(parsed)
            box.senders.append(envelope.mail_from)
            box.recipients.append(list(envelope.rcpt_tos))
            return "250 OK"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, secret = data.login.decode(), data.password.decode()
        box.logins.append((login, secret))
        # handled=False: on a wrong password the server answers 535 itself.
        return AuthResult(success=login == username and secret == password, handled=False)

    options: dict[str, Any] = {}
    if username is not None:
        # Plain-text AUTH is fine for a loopback test server. aiosmtpd only counts
        # STARTTLS as TLS for AUTH, so on an implicit-TLS (ssl) port it must not require it.
        options = {"authenticator": authenticator, "auth_require_tls": tls == "starttls"}
    if tls is not None:
        assert certificate is not None, "tls needs a certificate"
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*certificate)
        if tls == "starttls":
            options |= {"tls_context": context, "require_starttls": True}
        else:
            options["ssl_context"] = context
    controller = Controller(Handler(), hostname=box.host, port=box.port, **options)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@contextlib.contextmanager
def trusted_smtp_receiver(
    security: Security,
    directory: Path,
    monkeypatch: pytest.MonkeyPatch,
    username: str | None = None,
    password: str | None = None,
) -> Iterator[Mailbox]:
    """``smtp_receiver`` speaking ``security``, its certificate trusted by this process.

    With TLS, a certificate is made in ``directory`` and ``SSL_CERT_FILE`` points at
    it: the senders verify the server like any client, against the default store.
    """
    if security == "none":
        with smtp_receiver(username, password) as box:
            yield box
        return
    certificate = self_signed_certificate(directory)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))
    with smtp_receiver(username, password, tls=security, certificate=certificate) as box:
        yield box
