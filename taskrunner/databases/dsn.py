"""A PostgreSQL DSN and its password: where it points, and the secret kept out of sight.

The password must reach neither a command line (``ps`` shows those to every user)
nor an error text (which becomes workflow history and an alert). libpq quotes a
malformed DSN back in its error, so the password is found even in a DSN that does
not parse, and replaced by ``***``.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

MASK = "***"
"""What a redacted password reads as."""

_URI_PASSWORD = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*://[^:@/?#]*:([^@/?#]*)@")
"""``postgresql://user:PASSWORD@host``: libpq ends the user info at the first ``@`` or ``/``."""
_QUERY_PASSWORD = re.compile(r"[?&]password=([^&#]*)")
"""``...?password=PASSWORD&...`` in a URI's query."""
_KEYWORD_PASSWORD = re.compile(r"(?:^|\s)password\s*=\s*('(?:[^'\\]|\\.)*'?|\S+)")
"""``password=PASSWORD`` or ``password='PASS WORD'`` (maybe unterminated) in key=value form."""


def split_password(dsn: str) -> tuple[str, str | None]:
    """The DSN without its password (key=value form), and the password (None if it has none).

    Raises:
        psycopg.ProgrammingError: the DSN is malformed (its text may quote the password).
    """
    params = conninfo_to_dict(dsn)
    password = params.pop("password", None)
    return make_conninfo("", **params), None if password is None else str(password)


def dsn_location(dsn: str) -> str:
    """``host:port/database``, safe to show (no user, no password)."""
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "(unparsable dsn)"
    host = params.get("host") or "localhost"
    port = params.get("port") or 5432
    return f"{host}:{port}/{params.get('dbname') or params.get('user') or ''}"


def secrets(dsn: str) -> set[str]:
    """Every form in which the DSN's password could appear in a message."""
    found: set[str] = set()
    try:
        password = conninfo_to_dict(dsn).get("password")
    except psycopg.ProgrammingError:
        password = None
    if password:
        found.add(str(password))
    for pattern in (_URI_PASSWORD, _QUERY_PASSWORD, _KEYWORD_PASSWORD):
        for raw in pattern.findall(dsn):
            found |= {raw, unquote(raw), _unquoted(raw)}
    return {s for s in found if s}


def redact(text: str, dsn: str) -> str:
    """``text`` with the DSN's password (in any of its forms) replaced by ``***``."""
    for secret in sorted(secrets(dsn), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _unquoted(value: str) -> str:
    if value.startswith("'"):
        value = value[1:-1] if len(value) > 1 and value.endswith("'") else value[1:]
        return re.sub(r"\\(.)", r"\1", value)
    return value
