"""The one SMTP sender: the email task and the email notification channel both use it.

It connects as ``smtp.security`` says (plain, STARTTLS or implicit TLS), logs in
when ``smtp.username`` is set, sends, and turns every failure into an
``ApplicationError`` whose type says whether a retry can help. Connections are kept
and reused (one per sending thread at most, ``KEEP_OPEN_SECONDS``): connecting, the
greeting, EHLO, TLS and login cost more than a message itself. Before a kept connection
carries a message, its socket is checked for what a server sends only when it hangs up
(a 421, or the end of the stream), without a round trip: one the server closed meanwhile
is replaced before anything is sent on it. The password is
never a setting value: it is read at send time from the environment variable
named by ``smtp.password_env``, so it never enters workflow inputs or history.
"""

from __future__ import annotations

import email.policy
import os
import re
import select
import smtplib
import ssl
import threading
import time
from email import headerregistry
from email.message import EmailMessage
from typing import Any

from temporalio.exceptions import ApplicationError

from taskrunner.errors import (
    EMAIL_REJECTED,
    SMTP_DEFERRED,
    SMTP_UNAVAILABLE,
    configuration_error,
    invalid_task_data,
)
from taskrunner.settings.resources import SmtpSettings


class _HeaderClasses(headerregistry.HeaderRegistry):
    """The standard header registry, its classes made once per name: the stock one makes
    a new class (``type(...)``) for every header it parses, a third of an email's CPU."""

    def __init__(self) -> None:
        super().__init__()
        self._made: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        key = name.lower()
        made = self._made.get(key)
        if made is None:
            made = self._made[key] = super().__getitem__(name)
        return made


_UNSAFE = re.compile(r"[\x00-\x1f\x7f]|=\?|\s\s|^\s|\s$")
"""What a header value stored as given must not hold: control characters (CR and LF
among them), encoded-word syntax (parsed, it would be decoded and encoded again), or
runs of white space and white space at either end (a parsed header may fold them)."""


class _PlainHeaders(email.policy.EmailPolicy):
    """The default policy, less the parsing of plain header values until they are read.

    Setting a header parses its value (the address grammar for From and To: most of an
    email's CPU). A value that needs no encoding and no folding (ASCII, one line, short,
    none of ``_UNSAFE``) is stored as given instead and written out as the same line the
    parsed header gives (tests/test_email_message.py); reading the header still returns
    the parsed object.
    """

    def header_store_parse(self, name: str, value: Any) -> tuple[str, Any]:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + 2 + len(value) <= (self.max_line_length or 0)
            and not _UNSAFE.search(value)
        ):
            return (name, value)
        return super().header_store_parse(name, value)


MESSAGE_POLICY = _PlainHeaders(header_factory=_HeaderClasses())
"""The default email policy with cached header classes and plain values parsed only when
read (the same messages, less CPU)."""


def new_message() -> EmailMessage:
    """An empty message under :data:`MESSAGE_POLICY`: the email task and channel build theirs
    with it."""
    return EmailMessage(policy=MESSAGE_POLICY)


KEEP_OPEN_SECONDS = 30.0
"""How long an idle connection is kept for the next message (servers drop idle ones)."""
MAX_KEPT = 32
"""Idle connections kept at most (the worker's task threads send at once)."""


class SmtpSender:
    """Sends through one SMTP server (blocking; run it in a thread).

    Args:
        smtp: The server, its security and its login; ``smtp.host`` must be set.
        timeout_seconds: Socket timeout of each connection. Each caller has its own:
            the email task uses ``smtp.timeout_seconds``, the channel a shorter one.
    """

    def __init__(self, smtp: SmtpSettings, timeout_seconds: float) -> None:
        if smtp.host is None:
            raise ValueError("SmtpSender needs smtp.host")
        self._smtp = smtp
        self._host: str = smtp.host
        self._timeout = timeout_seconds
        self._where = f"SMTP server {smtp.host}:{smtp.port}"
        # Building a TLS context loads the trust store (tens of milliseconds), so it
        # is built once here, and only when the connection will use TLS.
        self._tls = ssl.create_default_context() if smtp.security != "none" else None
        self._kept: list[tuple[float, smtplib.SMTP]] = []
        """Idle open connections, with when each was last used."""
        self._lock = threading.Lock()

    def _login(self) -> tuple[str, str] | None:
        """(username, password), the password read now; None when no login is configured.

        A username with an unset or empty password variable is a setup error: an
        empty value is almost always a secret that was never provisioned, and
        logging in with it would only come back as "rejected the credentials". It
        fails before connecting, naming the variable, and is never retried.
        """
        username, name = self._smtp.username, self._smtp.password_env
        if not username:
            return None
        password = os.environ.get(name)
        if not password:
            raise configuration_error(
                f"smtp.username is set but the environment variable {name} "
                f"(smtp.password_env) holding the SMTP password is unset or empty: "
                f"set {name}, or unset smtp.username"
            )
        return username, password

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message``; failures come out as retryable or non-retryable ApplicationErrors."""
        login = self._login()  # before connecting: a setup error needs no server
        try:
            client = self._take() or self._open(login)
            try:
                client.send_message(message)
            except smtplib.SMTPRecipientsRefused:
                self._give_back(client)  # the session is fine: only the recipient was not
                raise
            except BaseException:
                _close(client)
                raise
            self._give_back(client)
        except (OSError, smtplib.SMTPException) as err:
            raise self._failure(err, message["To"]) from None

    def _open(self, login: tuple[str, str] | None) -> smtplib.SMTP:
        client = self._connect()
        try:
            if self._smtp.security == "starttls":
                client.starttls(context=self._tls)
            if login is not None:
                client.login(*login)
        except BaseException:
            _close(client)
            raise
        return client

    def _take(self) -> smtplib.SMTP | None:
        """A kept connection the server has not hung up, or None: open a new one."""
        while True:
            with self._lock:
                if not self._kept:
                    return None
                used, client = self._kept.pop()
            if time.monotonic() - used < KEEP_OPEN_SECONDS and _quiet(client):
                return client
            _close(client)

    def _give_back(self, client: smtplib.SMTP) -> None:
        with self._lock:
            if len(self._kept) < MAX_KEPT:
                self._kept.append((time.monotonic(), client))
                return
        _close(client)

    def close(self) -> None:
        """Close the kept connections (QUIT)."""
        with self._lock:
            kept, self._kept = self._kept, []
        for _, client in kept:
            _close(client)

    def _connect(self) -> smtplib.SMTP:
        if self._smtp.security == "ssl":
            return smtplib.SMTP_SSL(
                self._host, self._smtp.port, timeout=self._timeout, context=self._tls
            )
        return smtplib.SMTP(self._host, self._smtp.port, timeout=self._timeout)

    def _failure(self, err: OSError | smtplib.SMTPException, recipient: str) -> ApplicationError:
        """The ApplicationError for an smtplib failure: permanent ones are non-retryable."""
        where = self._where
        if isinstance(err, smtplib.SMTPAuthenticationError):
            return configuration_error(
                f"{where} rejected the credentials: {err.smtp_code} {_text(err.smtp_error)}"
            )
        if isinstance(err, smtplib.SMTPNotSupportedError):
            return configuration_error(
                f"{where} does not support this (check smtp.security): {err}"
            )
        if isinstance(err, smtplib.SMTPRecipientsRefused):
            codes = [code for code, _ in err.recipients.values()]
            detail = "; ".join(f"{c} {_text(m)}" for c, m in err.recipients.values())
            if all(code >= 500 for code in codes):  # permanent: retrying cannot help
                return invalid_task_data(f"{where} refused recipient {recipient}: {detail}")
            return ApplicationError(f"{where} deferred recipient: {detail}", type=SMTP_DEFERRED)
        if isinstance(err, smtplib.SMTPResponseException):
            permanent = err.smtp_code >= 500
            return ApplicationError(
                f"{where} refused the message: {err.smtp_code} {_text(err.smtp_error)}",
                type=EMAIL_REJECTED if permanent else SMTP_DEFERRED,
                non_retryable=permanent,
            )
        if isinstance(err, ssl.SSLCertVerificationError):
            return configuration_error(
                f"{where}: TLS certificate not trusted: {err.verify_message}"
            )
        # Unreachable, timed out or disconnected: the server may be back later.
        return ApplicationError(
            f"cannot reach {where}: {err or type(err).__name__}", type=SMTP_UNAVAILABLE
        )


def _quiet(client: smtplib.SMTP) -> bool:
    """Nothing to read on an idle session: in SMTP the server speaks unasked only to
    hang up (a 421, then the end of the stream), so anything readable means it did."""
    sock = client.sock
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


def _close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (OSError, smtplib.SMTPException):
        client.close()


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
