"""Payload encryption: keys, the codec, and the converter every client of ours uses."""

from __future__ import annotations

from temporalio.converter import DataConverter

from taskrunner.encryption.codec import EncryptionCodec, PayloadKeyError, data_converter
from taskrunner.encryption.keys import KeyRing, load_keys, new_key_line
from taskrunner.settings.encryption import EncryptionSettings

__all__ = [
    "EncryptionCodec",
    "KeyRing",
    "PayloadKeyError",
    "converter_for",
    "load_keys",
    "new_key_line",
]


def converter_for(settings: EncryptionSettings) -> DataConverter:
    """The data converter for these settings (encrypting when a key is configured)."""
    return data_converter(load_keys(settings))
