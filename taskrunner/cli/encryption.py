"""``taskrunner encryption-key`` and ``taskrunner codec-server``: payload encryption."""

from __future__ import annotations

import argparse
import asyncio

from taskrunner.cli.session import stop_event
from taskrunner.encryption import new_key_line
from taskrunner.encryption.server import codec_server
from taskrunner.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    key = subparsers.add_parser(
        "encryption-key",
        help="print a new payload encryption key line (<id>:<base64>)",
        description="Print a new AES-256 key as '<id>:<base64>'. Append it to "
        "TASKRUNNER_ENCRYPTION_KEYS (comma-separated) or to the encryption.key_file, the "
        "newest last: new payloads use it, older keys still decrypt.",
    )
    key.add_argument("--id", help="the key's id (default: k<date>-<4 hex>)")
    key.set_defaults(handler=key_command)
    server = subparsers.add_parser(
        "codec-server",
        help="serve /encode and /decode so the web UI shows encrypted payloads",
        description="Serve Temporal's remote codec endpoints (/encode, /decode) with the "
        "configured keys until Ctrl-C. Point the web UI's codec endpoint at it. Beyond "
        "loopback it needs the bearer token from encryption.codec_token_env.",
    )
    server.add_argument("--host", help="address to listen on (default: encryption.codec_host)")
    server.add_argument(
        "--port", type=int, help="port to listen on (default: encryption.codec_port)"
    )
    server.set_defaults(handler=codec_server_command)


async def key_command(args: argparse.Namespace, settings: Settings) -> int:
    print(new_key_line(args.id))
    return 0


async def codec_server_command(args: argparse.Namespace, settings: Settings) -> int:
    stop = stop_event()
    server = await asyncio.to_thread(codec_server, settings, args.host, args.port)
    with server:
        token = "bearer token required" if server.token else "no token (loopback only)"
        print(f"Codec server on {server.url} ({token}); Ctrl-C stops it", flush=True)
        await stop.wait()
    return 0
