"""The ``taskrunner`` command line. Every command ends through :func:`exit_now`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, NoReturn

from temporalio.service import RPCError, RPCStatusCode

from taskrunner.cli import (
    dashboard,
    demo,
    encryption,
    health,
    jobs,
    logs,
    maintenance,
    notify,
    queue,
    schedules,
    serve,
    status,
)
from taskrunner.client import ADDRESS_ENV
from taskrunner.datadir import ensure_data_dir
from taskrunner.errors import UserError
from taskrunner.events import first_line
from taskrunner.settings import load_settings

CLOSED_PIPE = 141
"""Exit status when standard output was closed by its reader (128 + SIGPIPE)."""
COMMANDS = [
    serve,
    dashboard,
    demo,
    status,
    health,
    queue,
    schedules,
    jobs,
    maintenance,
    notify,
    encryption,
]
"""Modules that each add their subcommands with ``register(subparsers)``."""
LONG_RUNNING = {"run", "worker", "codec-server"}
"""Commands whose console tells each event (a run ended, a task failed) as it happens."""


class OneLineParser(argparse.ArgumentParser):
    """A usage mistake is one line (and where the usage is), not the usage and the line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="taskrunner",
        description="Scheduled task runner on Temporal: queue, schedules, health, maintenance.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show worker logs")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Parse, run the command, and exit with its status: 0 done, 1 it failed, 2 the
    user's mistake (bad input, settings, no server), 130 Ctrl-C; never a traceback."""
    parser = build_parser()
    log_file = None
    try:
        args = parser.parse_args(argv)  # --help writes to stdout too
        logs.configure(args.verbose, None, events=False)
        settings = load_settings()
        data_dir = ensure_data_dir(settings.data_dir, private=settings.private_files)
        log_file = data_dir / logs.LOG_FILE
        long_running = args.command in LONG_RUNNING
        logs.configure(args.verbose, log_file, events=long_running, logs=settings.logs)
        code = asyncio.run(_interruptible(args.handler(args, settings)))
    except BaseException as err:
        code = _failed(err, log_file)
    exit_now(code or 0)


def _failed(err: BaseException, log_file: Path | None) -> int:
    """Say in one line why the command ended, and return its exit status."""
    if isinstance(err, SystemExit):  # argparse: --help, or a usage error it has printed
        return err.code if isinstance(err.code, int) else int(err.code is not None)
    if _interrupt.is_set() or isinstance(err, KeyboardInterrupt | asyncio.CancelledError):
        # After Ctrl-C, whatever the cancelled call raised (an update's "timeout or
        # cancellation" error, say) is the interruption.
        sys.stderr.write("interrupted (Ctrl-C)\n")
        return 130
    if isinstance(err, UserError):
        sys.stderr.write(f"error: {err}\n")
        return 2
    if isinstance(err, BrokenPipeError):
        return _closed_pipe()
    if isinstance(err, RPCError):
        return _rpc_failed(err)
    if not isinstance(err, Exception):
        raise err
    # A bug of ours or a failure nobody planned for: one line too, the traceback to the file.
    logging.getLogger(__name__).error("command failed", exc_info=err, extra={logs.FILE_ONLY: 1})
    where = f"; traceback in {log_file}" if log_file else ""
    sys.stderr.write(f"error: {type(err).__name__}: {_first_line(err)}{where}\n")
    return 1


_interrupt = threading.Event()
"""Set by the first Ctrl-C of a command (``run`` and ``worker`` handle their own)."""


async def _interruptible(command: Coroutine[Any, Any, int]) -> int:
    """Run the command; Ctrl-C cancels it (a second one exits at once)."""
    task = asyncio.current_task()
    assert task is not None

    def interrupted() -> None:
        if _interrupt.is_set():
            sys.stderr.write("interrupted (Ctrl-C, twice): stopped at once\n")
            exit_now(130)
        _interrupt.set()
        task.cancel()

    asyncio.get_running_loop().add_signal_handler(signal.SIGINT, interrupted)
    return await command


def _rpc_failed(err: RPCError) -> int:
    """A Temporal call failed mid-command: a server gone away is said as at connect (2)."""
    if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
        sys.stderr.write(
            f"error: the Temporal server stopped answering ({_first_line(err)}); "
            f"check it is running (taskrunner run, or fix {ADDRESS_ENV}) and try again\n"
        )
        return 2
    sys.stderr.write(f"error: Temporal refused the request: {_first_line(err)}\n")
    return 1


def _first_line(err: BaseException) -> str:
    return first_line(str(err) or type(err).__name__, limit=300)


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
