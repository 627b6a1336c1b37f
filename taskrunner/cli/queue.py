"""``taskrunner enqueue`` and ``taskrunner queue ...``: feed, command and inspect a queue."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from taskrunner.cli.queue_render import (
    DrainProgress,
    render_drain,
    render_record,
    render_stats,
    render_tasks,
)
from taskrunner.cli.session import Serving, temporal_session
from taskrunner.errors import UserError
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import (
    DrainResult,
    TaskSpec,
    TaskStatus,
)
from taskrunner.queue.specs import check_payload, new_spec, parse_run_at, payload_object
from taskrunner.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    enqueue = subparsers.add_parser(
        "enqueue",
        help="add a task to a queue (creating the queue if needed)",
        description="Validate and enqueue one task. The queue rejects unknown types and "
        "payloads that do not fit the type, with the field and the reason.",
    )
    enqueue.add_argument("type", help="task type, e.g. email, report, dataSync")
    enqueue.add_argument(
        "--data",
        default="{}",
        help="payload as a JSON object; @FILE reads it from a file, - (or @-) from stdin",
    )
    enqueue.add_argument("--priority", type=int, default=0, help="higher runs first (default 0)")
    enqueue.add_argument(
        "--run-at", help="ISO date-time not before which it runs (local zone from settings)"
    )
    enqueue.add_argument("--key", help="idempotency key: the same key returns the same task")
    _queue_option(enqueue)
    enqueue.set_defaults(handler=enqueue_command)

    queue = subparsers.add_parser(
        "queue",
        help="queue stats, listings and commands",
        description="Inspect and command a task queue.",
    )
    actions = queue.add_subparsers(dest="action", required=True, metavar="ACTION")
    simple = {
        "stats": "counters by status and by type",
        "purge": "delete every failed task",
        "pause": "stop starting tasks (running ones finish)",
        "resume": "start tasks again",
        "drain": "wait until every task pending now has finished; print how each ended",
    }
    for name, text in simple.items():
        _queue_option(actions.add_parser(name, help=text, description=text.capitalize() + "."))
    listing = actions.add_parser("list", help="tasks by status", description="List tasks.")
    listing.add_argument("--status", choices=[s.value for s in TaskStatus])
    listing.add_argument(
        "--limit", type=at_least_one, default=50, help="at most this many (default 50)"
    )
    _queue_option(listing)
    for name, text in {"show": "one task in full", "cancel": "cancel a pending task"}.items():
        parser = actions.add_parser(name, help=text, description=text.capitalize() + ".")
        parser.add_argument("task_id")
        _queue_option(parser)
    retry = actions.add_parser(
        "retry", help="queue a failed task (or --all) again", description="Retry failed tasks."
    )
    retry.add_argument("task_id", nargs="?")
    retry.add_argument("--all", action="store_true", help="every failed task")
    _queue_option(retry)
    recover = actions.add_parser(
        "recover",
        help="start a terminated queue again with its tasks and keys",
        description="Rebuild a queue whose workflow was terminated from its last state "
        "(needs a running worker). Tasks that were running run again.",
    )
    recover.add_argument(
        "--force", action="store_true", help="terminate a running (stuck) queue first"
    )
    _queue_option(recover)
    queue.set_defaults(handler=queue_command)


def _queue_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--queue", help="queue name (default: settings queue.name)")


def at_least_one(text: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 (got {value})")
    return value


def read_data(value: str) -> tuple[str, str]:
    """The --data text and how to name it: inline, ``@FILE``, or ``-``/``@-`` for stdin.

    curl's convention: a payload near the size limit does not fit on a command line
    ("Argument list too long"), but it fits in a file or a pipe.
    """
    if value in ("-", "@-"):
        return sys.stdin.read(), "--data from stdin"
    if not value.startswith("@"):
        return value, "--data"
    if value == "@":
        raise UserError("--data @ needs a file name, e.g. --data @payload.json")
    path = Path(value[1:]).expanduser()
    try:
        return path.read_text(encoding="utf-8"), f"--data {value}"
    except FileNotFoundError:
        raise UserError(f"--data {value}: no such file {path}") from None
    except UnicodeDecodeError:
        raise UserError(f"--data {value}: {path} is not UTF-8 text") from None
    except OSError as err:
        raise UserError(f"--data {value}: cannot read {path}: {err.strerror}") from None


def parse_payload(value: str) -> dict[str, Any]:
    """The --data JSON object (inline, from a file or stdin), or a one-line UserError."""
    return payload_object(*read_data(value))


def warn_if_past(spec: TaskSpec, given: str | None, timezone: str) -> None:
    """A --run-at already past is accepted: the task runs now, and stderr says so."""
    if spec.run_at is None or spec.run_at > datetime.now(UTC):
        return
    when = spec.run_at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")
    sys.stderr.write(f"warning: --run-at {given} ({when}) is in the past; the task runs now\n")


async def enqueue_command(args: argparse.Namespace, settings: Settings) -> int:
    spec = new_spec(
        lambda loc: f"--{str(loc[0]).replace('_', '-')}",
        type=args.type,
        payload=parse_payload(args.data),
        priority=args.priority,
        run_at=parse_run_at(args.run_at, settings.timezone),
        key=args.key,
    )
    check_payload(spec, settings, args.queue)
    warn_if_past(spec, args.run_at, settings.timezone)
    async with temporal_session(settings, Serving.STAND_IN) as session:
        queue = QueueClient(session.client, settings, args.queue)
        result = await queue.enqueue(spec)
    verb = "Enqueued" if result.created else "Already enqueued (same key):"
    print(f"{verb} task {result.task_id} ({spec.type}) on queue {queue.name}")
    return 0


async def queue_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "retry" and bool(args.task_id) == bool(args.all):
        raise UserError("queue retry needs a task id or --all (not both)")
    if args.action == "drain":
        # Said at once: the drain may then wait a long time before anything finishes.
        name = args.queue or settings.queue.name
        print(
            f"Draining queue {name}: waiting for the tasks due now "
            "(Ctrl-C stops the wait, not the queue)...",
            flush=True,
        )
    async with temporal_session(settings, Serving.STAND_IN) as session:
        queue = QueueClient(session.client, settings, args.queue)
        print(await _run(queue, args))
    return 0


async def _run(queue: QueueClient, args: argparse.Namespace) -> str:
    action = args.action
    if action == "stats":
        return render_stats(await queue.stats())
    if action == "list":
        status = TaskStatus(args.status) if args.status else None
        return render_tasks(await queue.list(status, args.limit))
    if action == "show":
        return render_record(await queue.show(args.task_id), ZoneInfo(queue.settings.timezone))
    if action == "drain":
        return render_drain(await _drain(queue))
    if action == "recover":
        stats = await queue.recover(force=args.force)
        return (
            f"queue {queue.name!r} recovered: {stats.pending} pending, {stats.failed} failed "
            f"(run {stats.run_number})"
        )
    if action == "retry":
        result = await (queue.retry_all() if args.all else queue.retry(args.task_id))
    elif action == "cancel":
        result = await queue.cancel(args.task_id)
    else:
        result = await getattr(queue, action)()
    return result.message


async def _drain(queue: QueueClient) -> DrainResult:
    """Drain with a progress line; Ctrl-C stops the wait (the queue keeps working), and the
    command ends with the CLI's one line for an interruption."""
    show = DrainProgress(sys.stdout)
    try:
        return await queue.drain(progress=show)
    finally:
        show.end()
