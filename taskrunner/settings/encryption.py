"""Settings of payload encryption and of the codec server the web UI decodes through."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_CODEC_PORT = 8234
"""The codec server's port (beside the web UI's 8233)."""


class EncryptionSettings(BaseModel):
    """Payload encryption (AES-256-GCM) with keys read from the environment or a file.

    No key configured: payloads are stored as plain JSON (see SECURITY.md for who can
    then read them). Keys are never setting values: the variable named by ``key_env``
    or the file ``key_file`` holds them, one ``<key id>:<base64 of 32 bytes>`` each
    (comma- or line-separated). The last key encrypts; every listed key decrypts, so a
    new key is added at the end and an old one is dropped once no history needs it.
    """

    model_config = ConfigDict(extra="forbid")

    key_env: str = "TASKRUNNER_ENCRYPTION_KEYS"
    """Environment variable holding the keys (read when set and not empty)."""
    key_file: Path | None = None
    """A file holding the keys, one per line (``#`` starts a comment); used when the
    variable is unset. Keep it 0600."""
    codec_host: str = "127.0.0.1"
    """Where ``taskrunner codec-server`` (and the one ``taskrunner run`` starts) listens.
    Beyond loopback it requires the bearer token named by ``codec_token_env``."""
    codec_port: int = Field(default=DEFAULT_CODEC_PORT, ge=1, le=65535)
    codec_token_env: str = "TASKRUNNER_CODEC_TOKEN"
    """Environment variable holding the codec server's bearer token (required when it
    listens beyond loopback; checked whenever it is set)."""
    codec_origins: list[str] = Field(default_factory=list)
    """Web UI origins the codec server answers besides the embedded UI's own
    (``http://127.0.0.1:<ui_port>`` and ``http://localhost:<ui_port>``)."""

    @field_validator("codec_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not origin.startswith(("http://", "https://")) or origin.count("/") != 2:
                raise ValueError(
                    f"{origin!r} is not an origin (scheme://host[:port], no path), "
                    "e.g. https://temporal-ui.example.com"
                )
        return [origin.rstrip("/") for origin in origins]
