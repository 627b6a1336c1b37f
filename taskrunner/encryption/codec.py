"""The payload codec: AES-256-GCM over each whole payload, the key id in its metadata.

A payload encrypted here is ``{encoding: binary/encrypted, encryption-key-id: <id>}`` with
``nonce (12 bytes) + ciphertext`` as data; the ciphertext covers the original payload
(metadata and data), and the key id is bound to it as associated data. Payloads without
that encoding pass through decode unchanged, so histories written before encryption was
turned on still read.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from taskrunner.encryption.keys import KeyRing
from taskrunner.errors import UserError

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12


class PayloadKeyError(UserError):
    """A payload cannot be decrypted with the configured keys."""


class EncryptionCodec(PayloadCodec):
    """Encrypts with the ring's newest key, decrypts with any of its keys.

    Without a ring it encrypts nothing and only says clearly, on an encrypted payload,
    which key is missing (instead of the SDK's "unknown payload encoding").
    """

    def __init__(self, ring: KeyRing | None) -> None:
        self._ring = ring
        self._ciphers = {k: AESGCM(v) for k, v in ring.keys.items()} if ring else {}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return self.encode_sync(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return self.decode_sync(payloads)

    def encode_sync(self, payloads: Sequence[Payload]) -> list[Payload]:
        if self._ring is None:
            return list(payloads)
        key_id = self._ring.current
        cipher = self._ciphers[key_id]
        sealed = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            data = cipher.encrypt(nonce, payload.SerializeToString(), _bound(key_id))
            metadata = {"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()}
            sealed.append(Payload(metadata=metadata, data=nonce + data))
        return sealed

    def decode_sync(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._open(p) if p.metadata.get("encoding") == ENCODING else p for p in payloads]

    def _open(self, payload: Payload) -> Payload:
        key_id = payload.metadata.get(KEY_ID_METADATA, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            where = self._ring.source if self._ring else "TASKRUNNER_ENCRYPTION_KEYS"
            known = f"it holds {', '.join(self._ciphers)}" if self._ciphers else "none is set"
            raise PayloadKeyError(
                f"a payload is encrypted with key {key_id!r}, which is not in {where} "
                f"({known}); add that key to the list (the newest last) to read it"
            )
        try:
            plain = cipher.decrypt(
                payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], _bound(key_id)
            )
        except InvalidTag:
            raise PayloadKeyError(
                f"a payload encrypted with key {key_id!r} does not decrypt with the key of "
                "that id: the key was changed under the same id, or the payload was altered"
            ) from None
        opened = Payload()
        opened.ParseFromString(plain)
        return opened


def _bound(key_id: str) -> bytes:
    """Associated data: a payload's key id cannot be swapped without failing decryption."""
    return b"taskrunner/" + key_id.encode()


def data_converter(ring: KeyRing | None) -> DataConverter:
    """The pydantic converter, with the codec; failure messages are encrypted too when
    a key is set (the web UI shows them through the codec server)."""
    converter = dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(ring))
    if ring is not None:
        converter = dataclasses.replace(
            converter, failure_converter_class=DefaultFailureConverterWithEncodedAttributes
        )
    return converter
