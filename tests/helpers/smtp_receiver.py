"""A real SMTP server (aiosmtpd) started by a test, recording what it receives."""

from __future__ import annotations

import contextlib
import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.helpers import free_port


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)


@contextlib.contextmanager
def smtp_receiver(username: str | None = None, password: str | None = None) -> Iterator[Mailbox]:
    """An SMTP server on a free port; with ``username``, it checks logins against it."""
    box = Mailbox(host="127.0.0.1", port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
            box.messages.append(parsed)
            box.recipients.append(list(envelope.rcpt_tos))
            return "250 OK"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, secret = data.login.decode(), data.password.decode()
        box.logins.append((login, secret))
        return AuthResult(success=login == username and secret == password)

    options: dict[str, Any] = {}
    if username is not None:
        # Plain-text AUTH is fine for a loopback test server (production uses STARTTLS/SSL).
        options = {"authenticator": authenticator, "auth_require_tls": False}
    controller = Controller(Handler(), hostname=box.host, port=box.port, **options)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
