"""``taskrunner status``: one screen of what the runner is doing; ``--watch``, ``--json``.

Exit status: 0 when the server answered (whatever else is down: that is what the screen
says), 1 when the Temporal server is unreachable (``--json`` still prints the facts,
with ``server.reachable`` false), 2 for a usage or settings mistake. The command
never starts the embedded server: it looks, it does not touch.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable
from typing import TypeVar
from zoneinfo import ZoneInfo

from temporalio.client import Client

from taskrunner.client import ADDRESS_ENV, connect, remote_address_configured
from taskrunner.errors import ServerUnreachableError, UserError
from taskrunner.settings import Settings
from taskrunner.status.collect import collect_status
from taskrunner.status.models import Status
from taskrunner.status.render import render_status

T = TypeVar("T")

DEFAULT_INTERVAL = 5.0
"""Seconds between two screens of ``--watch``."""
SERVER_UNREACHABLE = 1
"""Exit status when the Temporal server did not answer."""
CLEAR_SCREEN = "\x1b[H\x1b[2J"
"""Cursor home, then erase the screen (what ``watch`` and ``clear`` send)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status",
        help="one screen: server, workers, queues, schedules, health, alerts, maintenance",
        description="What the runner is doing: server and worker reachability, each queue's "
        "counts and rate, each schedule's last and next run, the last health report, open "
        "alerts and the last maintenance outcome per target. Exit status 0 when the server "
        "answered, 1 when it is unreachable.",
    )
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="print the facts as JSON, for scripts")
    shown.add_argument(
        "--watch", action="store_true", help="redraw every --interval seconds until Ctrl-C"
    )
    parser.add_argument(
        "--interval",
        type=positive_seconds,
        help=f"seconds between two screens of --watch (default {DEFAULT_INTERVAL:g})",
    )
    parser.set_defaults(handler=status_command)


def positive_seconds(text: str) -> float:
    """An argparse type: a number of seconds, at least 0.1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value >= 0.1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be at least 0.1 seconds (got {text})")
    return value


async def status_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.interval is not None and not args.watch:
        raise UserError("--interval goes with --watch (taskrunner status --watch --interval 2)")
    if args.watch:
        return await watch(settings, args.interval or DEFAULT_INTERVAL)
    client, why = await connect_or_none(settings)
    status = await collect_status(client, settings, unreachable=why)
    if args.json:
        print(status.model_dump_json(indent=2))
    elif status.server.reachable:
        print(render_status(status, ZoneInfo(settings.timezone)))
    else:
        sys.stderr.write(f"error: {status.server.error}\n")
    return 0 if status.server.reachable else SERVER_UNREACHABLE


async def connect_or_none(settings: Settings) -> tuple[Client | None, str | None]:
    """A client, or None and why the server could not be reached."""
    try:
        return await connect(settings), None
    except ServerUnreachableError as err:
        if remote_address_configured():
            return None, str(err)
    # Not pointed anywhere: the embedded server is the one, and it is not running.
    return None, (
        f"the embedded Temporal server is not running (nothing answers on 127.0.0.1:"
        f"{settings.server_port}); start it with taskrunner run, or set {ADDRESS_ENV}"
    )


async def watch(settings: Settings, interval: float) -> int:
    """Redraw the status every ``interval`` seconds; Ctrl-C (or SIGTERM) ends it with 0.

    A server that is down is shown as such, and asked again at the next screen.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    zone = ZoneInfo(settings.timezone)
    client: Client | None = None
    while not stop.is_set():
        found = await _unless(stop, _collect(client, settings))
        if found is None:
            break
        client, status = found
        head = f"Every {interval:g}s (Ctrl-C stops)\n"
        sys.stdout.write(CLEAR_SCREEN + head + render_status(status, zone) + "\n")
        sys.stdout.flush()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
    sys.stdout.write("\n")
    return 0


async def _collect(client: Client | None, settings: Settings) -> tuple[Client | None, Status]:
    why = None
    if client is None:
        client, why = await connect_or_none(settings)
    return client, await collect_status(client, settings, unreachable=why)


async def _unless(stop: asyncio.Event, work: Awaitable[T]) -> T | None:
    """``work``'s result, or None (``work`` cancelled) once ``stop`` is set."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not task.done():
        task.cancel()
        return None
    return task.result()
