"""A real SMTP server (aiosmtpd) on a free port that keeps every message it receives."""

from __future__ import annotations

import contextlib
import email
import email.policy
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.helpers import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class SmtpPeer:
    host: str
    port: int
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


@contextlib.contextmanager
def smtp_peer(
    credentials: tuple[str, str] | None = None, tls_context: ssl.SSLContext | None = None
) -> Iterator[SmtpPeer]:
    """Run an SMTP server; with ``credentials`` it requires AUTH, with ``tls_context`` STARTTLS."""
    peer = SmtpPeer(host="127.0.0.1", port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            peer.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
            return "250 OK"

    def authenticate(
        server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        peer.logins.append((login, password))
        # handled=False: the server answers 535 itself on a wrong password.
        return AuthResult(success=(login, password) == credentials, handled=False)

    options: dict[str, Any] = {}
    if credentials is not None:
        options.update(authenticator=authenticate, auth_required=True)
        options["auth_require_tls"] = tls_context is not None
    if tls_context is not None:
        options.update(tls_context=tls_context, require_starttls=True)
    controller = Controller(Handler(), hostname=peer.host, port=peer.port, **options)
    controller.start()
    try:
        yield peer
    finally:
        controller.stop()
