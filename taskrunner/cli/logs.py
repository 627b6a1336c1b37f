"""Where the CLI's log records go: one-line events on the console, everything in a file.

The console shows what an operator acts on: the runner's events (a run ended, a task
failed) and warnings, each as one line. The log file in the data directory keeps
every record with its traceback; ``-v`` shows them on the console too.

With ``logs.format = "json"`` the long-running commands (``run``, ``worker``) write
every record at ``logs.level`` and above as one JSON object per line (:class:`JsonLines`),
to standard error and to the log file, for a log shipper.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from temporalio import activity, workflow

from taskrunner.events import EVENT, first_line
from taskrunner.observability.task_context import fields_of
from taskrunner.settings.observability import LogSettings

LOG_FILE = "taskrunner.log"
"""In the data directory: every record of every command, with tracebacks."""
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FILE_ONLY = "taskrunner_file_only"
"""Attribute of a log record kept out of the console (the CLI said it in its own line)."""
QUIET_LOGGERS = ("temporalio.activity", "temporalio.workflow")
"""Below ERROR these only go to the file: an expected task failure logs a traceback per
attempt there, and workflow code's own lines are told by events."""


TEMPORAL_CONTEXT = {
    "temporal_workflow": ("workflow_id", "run_id", "workflow_type"),
    "temporal_activity": ("workflow_id", "activity_id", "activity_type"),
}
"""What a JSON line keeps of the context the SDK's loggers add (``extra``)."""


def configure(
    verbose: bool, log_file: Path | None, *, events: bool, logs: LogSettings | None = None
) -> None:
    """Set up the root logger for one command; ``events``: a long-running command, whose
    console tells event lines on stdout (or, with ``logs.format = "json"``, everything as
    JSON lines on stderr)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logs.level if logs is not None else logging.INFO)
    if events and logs is not None and logs.format == "json":
        _json_lines(root, log_file)
        return
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


def _json_lines(root: logging.Logger, log_file: Path | None) -> None:
    # The SDK's loggers append their context to the message; here it is in fields.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(logging.FileHandler(log_file, encoding="utf-8", delay=True))
    for handler in handlers:
        handler.setFormatter(JsonLines())
        handler.addFilter(lambda record: not hasattr(record, FILE_ONLY))
        root.addHandler(handler)


class JsonLines(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``; for a record about a task its ``task_id``, ``queue``, ``type`` and
    ``attempt``; the workflow or activity it came from; its ``traceback``, if any."""

    def format(self, record: logging.LogRecord) -> str:
        created = datetime.fromtimestamp(record.created, UTC)
        line: dict[str, Any] = {
            "time": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(fields_of(record) or {})
        for key, names in TEMPORAL_CONTEXT.items():
            context = getattr(record, key, None)
            if isinstance(context, dict):
                line |= {n: context[n] for n in names if n in context and n not in line}
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


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
