"""Connect to Temporal: envconfig for where and how, the pydantic converter for what."""

from __future__ import annotations

import asyncio
import os
import re
from typing import Any

from temporalio.client import Client
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime

from taskrunner.encryption import converter_for
from taskrunner.errors import ServerUnreachableError, UserError
from taskrunner.settings import Settings

ADDRESS_ENV = "TEMPORAL_ADDRESS"
"""Set it to use an existing server; unset, the runner starts its embedded dev server."""


def remote_address_configured() -> bool:
    """True when the user pointed us at an existing Temporal server: ``TEMPORAL_ADDRESS``,
    or an address in Temporal's client config profile (``TEMPORAL_CONFIG_FILE``), which
    :func:`connect` would use (a bad profile is reported there, in one line)."""
    if os.environ.get(ADDRESS_ENV):
        return True
    try:
        return bool(ClientConfig.load_client_connect_config().get("target_host"))
    except Exception:  # envconfig raises plain errors for a bad profile file
        return False


def connect_config(settings: Settings, address: str | None = None) -> dict[str, Any]:
    """Client.connect keyword arguments from envconfig (file profile + TEMPORAL_* env)."""
    try:
        config: dict[str, Any] = dict(ClientConfig.load_client_connect_config())
    except Exception as err:  # envconfig raises plain errors for a bad profile file
        raise UserError(f"cannot read Temporal client config: {err}") from None
    if address is not None:
        config["target_host"] = address
    config.setdefault("target_host", f"127.0.0.1:{settings.server_port}")
    config.setdefault("namespace", settings.namespace)
    return config


async def connect(
    settings: Settings, address: str | None = None, *, runtime: Runtime | None = None
) -> Client:
    """Connect with the pydantic data converter (encrypting when a key is set); one clear
    error if the server is not there.

    ``runtime``: the worker's (``taskrunner.observability.runtime``), which serves its
    metrics; None, the SDK's default, which serves none.
    """
    config = connect_config(settings, address)
    target = config["target_host"]
    converter = converter_for(settings.encryption)
    try:
        return await asyncio.wait_for(
            Client.connect(**config, data_converter=converter, runtime=runtime),
            timeout=settings.connect_timeout_seconds,
        )
    except TimeoutError:
        reason = f"no answer within {settings.connect_timeout_seconds:g}s"
    except Exception as err:
        reason = _short_reason(err)
    raise ServerUnreachableError(
        f"cannot reach Temporal at {target} ({reason}); start it, fix {ADDRESS_ENV}, "
        f"or unset {ADDRESS_ENV} to use the embedded server (taskrunner run)"
    )


def _short_reason(err: Exception) -> str:
    """The useful words of a core connect error (which nests Rust debug output)."""
    text = str(err) or type(err).__name__
    found = re.search(r'message: "([^"]+)"', text)
    return found.group(1) if found else text.splitlines()[0][:200]
