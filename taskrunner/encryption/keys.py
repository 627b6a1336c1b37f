"""Encryption keys: where they are read from, what a key line looks like, a new one."""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from taskrunner.errors import ConfigError
from taskrunner.settings import Settings
from taskrunner.settings.encryption import EncryptionSettings
from taskrunner.settings.problems import env_name

KEY_BYTES = 32
"""AES-256."""
KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
"""What a key id may hold (it is stored in every payload's metadata)."""


@dataclass(frozen=True)
class KeyRing:
    """The keys by id, in the order listed; the last one encrypts."""

    keys: dict[str, bytes]
    source: str
    """Where they were read (a variable's or a file's name), for messages."""

    @property
    def current(self) -> str:
        return next(reversed(self.keys))


def load_keys(settings: EncryptionSettings) -> KeyRing | None:
    """The configured keys, or None when encryption is off (no variable, no file)."""
    text = os.environ.get(settings.key_env, "").strip()
    if text:
        return parse_keys(text, f"${settings.key_env}")
    if settings.key_file is None:
        return None
    where = f"encryption.key_file {settings.key_file}"
    fix = (
        f"point encryption.key_file ({env_name(Settings, ('encryption', 'key_file'))}) at a file of key lines, made with: "
        f"taskrunner encryption-key >> {settings.key_file} (keep it 0600), or unset it"
    )
    try:
        text = settings.key_file.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(f"cannot read {where} ({err.strerror}); {fix}") from None
    except UnicodeDecodeError:  # a binary file (a raw key, say) is no key line
        raise ConfigError(f"{where} is not UTF-8 text; {fix}") from None
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return parse_keys(",".join(line for line in lines if line), where)


def parse_keys(text: str, where: str) -> KeyRing:
    """``id:base64[,id:base64...]`` as a key ring; a bad entry is one line naming it."""
    keys: dict[str, bytes] = {}
    for number, entry in enumerate((e.strip() for e in text.split(",") if e.strip()), 1):
        key_id, sep, encoded = entry.partition(":")
        if not sep or not KEY_ID.fullmatch(key_id):
            raise ConfigError(
                f"key {number} in {where} is not '<id>:<base64 key>' with an id of letters, "
                "digits, . _ - (make one with: taskrunner encryption-key)"
            )
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error:
            key = b""
        if len(key) != KEY_BYTES:
            raise ConfigError(
                f"key {key_id!r} in {where} is not the base64 of {KEY_BYTES} bytes "
                "(make one with: taskrunner encryption-key)"
            )
        if key_id in keys:
            raise ConfigError(f"key id {key_id!r} appears twice in {where}")
        keys[key_id] = key
    if not keys:
        raise ConfigError(f"{where} holds no key (make one with: taskrunner encryption-key)")
    return KeyRing(keys=keys, source=where)


def new_key_line(key_id: str | None = None) -> str:
    """A fresh ``id:base64`` key line (the id defaults to today's date and 4 random hex)."""
    key_id = key_id or f"k{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(2)}"
    if not KEY_ID.fullmatch(key_id):
        raise ConfigError(f"key id {key_id!r} may hold letters, digits, . _ - only (1 to 64)")
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()}"
