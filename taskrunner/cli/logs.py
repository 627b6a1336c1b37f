"""Where the CLI's log records go: one-line events on the console, everything in a file.

The console shows what an operator acts on: the runner's events (a run ended, a task
failed) and warnings, each as one line. The log file in the data directory keeps
every record with its traceback; ``-v`` shows them on the console too.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path

from taskrunner.events import EVENT, first_line

LOG_FILE = "taskrunner.log"
"""In the data directory: every record of every command, with tracebacks."""
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FILE_ONLY = "taskrunner_file_only"
"""Attribute of a log record kept out of the console (the CLI said it in its own line)."""
QUIET_LOGGERS = ("temporalio.activity", "temporalio.workflow")
"""Below ERROR these only go to the file: an expected task failure logs a traceback per
attempt there, and workflow code's own lines are told by events."""


def configure(verbose: bool, log_file: Path | None, *, events: bool) -> None:
    """Set up the root logger for one command; ``events``: print event lines on stdout."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.INFO)
    if log_file is not None:
        to_file = logging.FileHandler(log_file, encoding="utf-8", delay=True)
        to_file.setFormatter(logging.Formatter(FILE_FORMAT))
        root.addHandler(to_file)
    console = logging.StreamHandler(sys.stderr)
    if verbose:
        console.setLevel(logging.INFO)
        console.setFormatter(logging.Formatter(FILE_FORMAT))
    else:
        console.setLevel(logging.WARNING)
        console.setFormatter(OneLine(log_file))
        console.addFilter(_operator_view)
    root.addHandler(console)
    if events:
        root.addHandler(EventLines())


def _operator_view(record: logging.LogRecord) -> bool:
    if hasattr(record, FILE_ONLY):
        return False
    if hasattr(record, EVENT):
        return False  # told by EventLines (or, in a one-shot command, by its report)
    quiet = record.name.startswith(QUIET_LOGGERS) and record.levelno < logging.ERROR
    return not quiet


class OneLine(logging.Formatter):
    """``LEVEL logger: first line of the message`` and where the rest is."""

    def __init__(self, log_file: Path | None) -> None:
        super().__init__()
        self.where = f" (details in {log_file})" if log_file is not None else ""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        rest = self.where if record.exc_info or "\n" in message.strip() else ""
        return f"{record.levelname.lower()}: {record.name}: {first_line(message, 1000)}{rest}"


class EventLines(logging.Handler):
    """Prints each event record's line on stdout, with the local time."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)

    def emit(self, record: logging.LogRecord) -> None:
        line = getattr(record, EVENT, None)
        if line is None:
            return
        stamp = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        try:
            sys.stdout.write(f"{stamp} {line}\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            pass  # nobody reads the console any more; the file has the record
