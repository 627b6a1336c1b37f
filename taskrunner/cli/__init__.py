"""The ``taskrunner`` command line. Every command ends through :func:`exit_now`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from taskrunner.cli import demo, health, maintenance, notify, queue, schedules, serve
from taskrunner.errors import UserError
from taskrunner.settings import load_settings

CLOSED_PIPE = 141
"""Exit status when standard output was closed by its reader (128 + SIGPIPE)."""
COMMANDS = [serve, demo, health, queue, schedules, maintenance, notify]
"""Modules that each add their subcommands with ``register(subparsers)``."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskrunner",
        description="Scheduled task runner on Temporal: queue, schedules, health, maintenance.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show worker logs")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Parse, run the command, and exit with its status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)  # --help writes to stdout too
        logging.basicConfig(
            level=logging.INFO if args.verbose else logging.WARNING,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        settings = load_settings()
        code = asyncio.run(args.handler(args, settings))
    except UserError as err:
        sys.stderr.write(f"error: {err}\n")
        code = 2
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = _closed_pipe()
    exit_now(code or 0)


def _closed_pipe() -> int:
    """The reader of stdout went away (`taskrunner ... | head -1`): stop quietly, as other
    tools do (what is still buffered goes nowhere)."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return CLOSED_PIPE


def exit_now(code: int) -> None:
    """Flush and leave before interpreter teardown.

    temporalio sdk-python #300: a process that used a Temporal client can abort
    at interpreter exit (``PyGILState_Release``, exit 134). ``os._exit`` skips
    that teardown, so the user sees the real status.
    """
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or _closed_pipe()
    sys.stderr.flush()
    os._exit(code)
