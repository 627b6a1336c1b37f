"""``taskrunner jobs ...``: the periodic jobs, each a Temporal Schedule enqueueing a task."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pydantic import ValidationError
from temporalio.client import Client

from taskrunner.cli.confirm import confirmed
from taskrunner.cli.queue import parse_payload
from taskrunner.cli.schedules import TIME_FORMAT, render_triggered
from taskrunner.cli.session import Serving, temporal_session
from taskrunner.errors import UserError, one_line
from taskrunner.jobs import operations as job_ops
from taskrunner.schedules.operations import Triggered
from taskrunner.settings import Settings
from taskrunner.settings.jobs import DEFAULT_CATCHUP, JobSettings, duration_text
from taskrunner.tasks.loading import task_registry

SETTINGS_FLAGS = {
    "task": "--task",
    "cron": "--cron",
    "every": "--every",
    "timezone": "--timezone",
    "jitter": "--jitter",
    "start": "--start",
    "end": "--end",
    "overlap": "--overlap",
    "catchup_window": "--catchup-window",
    "queue": "--queue",
    "priority": "--priority",
    "payload": "--data",
}
"""Each ``jobs add`` flag by the setting it sets (errors name the flag)."""
VALUE = "Value error, "
"""pydantic's prefix of a validator's own message."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "jobs",
        help="periodic jobs: list, add, remove, pause, resume, trigger",
        description="Periodic jobs (settings [[jobs]], or added here): each is a Temporal "
        "Schedule job-<name> whose every fire enqueues one task.",
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("list", help="every job: spec, zone, state, overlap, next runs, last run")
    for name, text in [
        ("describe", "one job in detail, with its next 10 runs"),
        ("trigger", "fire the job now (under its overlap policy); print the run's id"),
    ]:
        sub.add_parser(name, help=text).add_argument("name")
    remove = sub.add_parser("remove", help="delete the job's schedule (its tasks stay)")
    remove.add_argument("name")
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    for name, text in [("pause", "stop firing the job"), ("resume", "fire the job again")]:
        action = sub.add_parser(name, help=text)
        action.add_argument("name")
        action.add_argument("--note", help="why (shown by list and in the web UI)")
    _add_parser(sub)
    parser.set_defaults(handler=jobs_command)


def _add_parser(sub: argparse._SubParsersAction) -> None:
    add = sub.add_parser(
        "add",
        help="add a job outside the settings (apply never deletes it)",
        description="Add a job with the fields of a [[jobs]] entry; exactly one of "
        "--cron (repeatable) and --every.",
    )
    add.add_argument("name", help="lowercase letters, digits and '-'")
    add.add_argument("--task", required=True, help="task type each fire enqueues")
    add.add_argument("--data", help="the task's payload as JSON; @FILE or - (stdin) read it")
    add.add_argument("--cron", action="append", help="cron expression (repeat for more)")
    add.add_argument("--every", help="interval such as 15m or 1h30m")
    add.add_argument("--timezone", help="IANA zone (default: settings timezone)")
    add.add_argument("--jitter", help="start each fire up to this much later, e.g. 30s")
    add.add_argument("--start", help="no fire before (ISO date or time; local when no offset)")
    add.add_argument("--end", help="no fire after (ISO date: through that day)")
    add.add_argument("--paused", action="store_true", help="create it paused")
    add.add_argument("--overlap", choices=["skip", "allow"], help="default skip")
    add.add_argument(
        "--catchup-window",
        help=f"how late a missed fire may run (default {duration_text(DEFAULT_CATCHUP)})",
    )
    add.add_argument("--queue", help="queue of the task (default: settings queue.name)")
    add.add_argument("--priority", type=int, help="task priority (default 0)")
    daily = add.add_mutually_exclusive_group()
    daily.add_argument(
        "--once-per-local-day",
        dest="once_per_local_day",
        action="store_const",
        const=True,
        help="one task per local day across daylight saving (default for a daily cron)",
    )
    daily.add_argument(
        "--no-once-per-local-day", dest="once_per_local_day", action="store_const", const=False
    )


def job_from_args(args: argparse.Namespace) -> JobSettings:
    """The job ``jobs add`` describes, checked like a settings entry (errors name flags)."""
    fields: dict[str, Any] = {"name": args.name, "paused": args.paused}
    for field, flag in SETTINGS_FLAGS.items():
        value = getattr(args, flag.removeprefix("--").replace("-", "_"))
        if value is not None:
            fields[field] = parse_payload(value) if field == "payload" else value
    if args.once_per_local_day is not None:
        fields["once_per_local_day"] = args.once_per_local_day
    try:
        return JobSettings.model_validate(fields)
    except ValidationError as err:
        why = one_line(err, _flag, first_only=True, why=lambda p: p["msg"].removeprefix(VALUE))
        raise UserError(f"jobs add {why}") from None


def _flag(loc: Any) -> str:
    if not loc:
        return "arguments"
    field = str(loc[0])
    return SETTINGS_FLAGS.get(field, "--" + field.replace("_", "-"))


async def jobs_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "add":  # a mistake in the flags or the task modules needs no server
        job, task_types = job_from_args(args), task_registry(settings)
    declared = {j.name for j in settings.jobs}
    if args.action == "remove" and not args.yes and not await confirm_remove(args.name, declared):
        print(f"kept {args.name}")
        return 1
    async with temporal_session(settings, Serving.NONE) as session:
        client = session.client
        if args.action == "add":
            sid = await job_ops.add_job(client, settings, job, task_types)
            print(f"added {job.name} (schedule {sid})")
            print(render_view(await job_ops.view_job(client, settings, job.name)))
        elif args.action == "list":
            views = await job_ops.list_jobs(client, settings)
            for found in views:
                print(f"error: {found}" if isinstance(found, UserError) else render_view(found))
                print()
            if not views:
                print("no jobs (declare [[jobs]] in the settings, or `taskrunner jobs add`)")
        elif args.action == "describe":
            view = await job_ops.view_job(client, settings, args.name, next_count=10)
            print(render_view(view, detailed=True))
        elif args.action == "trigger":
            started = await job_ops.trigger_job(client, settings, args.name)
            own_server = session.server is not None
            print(render_trigger(args.name, started, client, session.ui_url, own_server))
        elif args.action == "pause":
            await job_ops.pause_job(client, settings, args.name, args.note)
            print(f"paused {args.name}")
        elif args.action == "resume":
            await job_ops.resume_job(client, settings, args.name, args.note)
            print(f"resumed {args.name}")
        elif args.action == "remove":
            await job_ops.remove_job(client, settings, args.name)
            print(f"removed {args.name}")
            if args.name in declared:
                sys.stderr.write(recreated_warning(args.name) + "\n")
    return 0


def recreated_warning(name: str) -> str:
    return (
        f"warning: job {name!r} is declared in the settings: the next `taskrunner schedules "
        "apply` (or `taskrunner run`) creates it again; remove it from the settings to keep "
        "it gone"
    )


async def confirm_remove(name: str, declared: set[str]) -> bool:
    again = " The settings declare it: the next apply creates it again." if name in declared else ""
    return await confirmed(
        f"Remove job {name}? Its tasks already enqueued stay.{again}",
        f"jobs remove {name} asks for confirmation: add --yes to remove it",
    )


def render_trigger(
    name: str, started: Triggered, client: Client, ui_url: str | None, own_server: bool
) -> str:
    if started.skipped:
        return (
            f"triggered {name}, but it was skipped: the previous fire's task is still pending "
            "or running (overlap skip)"
        )
    if started.workflow_id is None:
        return f"triggered {name}; its run is not shown yet (see: taskrunner jobs describe {name})"
    return render_triggered(name, started, client, ui_url, own_server)


def render_view(view: job_ops.JobView, detailed: bool = False) -> str:
    job = view.job
    state = "PAUSED" + (f" ({view.note})" if view.note else "") if view.paused else "active"
    if not view.applied:
        state = "not applied yet: taskrunner run or taskrunner schedules apply creates it"
    daily = f", once per local day (backup {view.backup})" if view.backup else ""
    last = "never"
    if view.last_run is not None:
        task = f"task {view.last_task_id}, " if view.last_task_id else ""
        last = (
            f"{view.last_run.strftime(TIME_FORMAT)} -> {view.last_result} "
            f"({task}{view.last_workflow_id})"
        )
    payload = json.dumps(job.payload, sort_keys=True)
    if not detailed and len(payload) > 60:
        payload = payload[:57] + "..."
    lines = [
        f"{job.name}  [{state}]  ({'added from the CLI' if view.origin == 'cli' else 'settings'})",
        f"  task:      {job.task} {payload} -> queue {job.queue}, priority {job.priority}",
        f"  spec:      {' | '.join(view.spec)}  ({job.timezone}){daily}",
        f"  overlap:   {job.overlap}, catch-up window {duration_text(job.catchup_window)}, "
        f"jitter {duration_text(job.jitter)}",
    ]
    if job.start is not None or job.end is not None:
        lines.append(f"  between:   {job.start or 'always'} and {job.end or 'forever'}")
    if detailed:
        lines.append(f"  schedule:  {view.id}")
    runs = ", ".join(t.strftime(TIME_FORMAT) for t in view.next_runs) or "none"
    if not view.applied:
        runs = "known once applied"
    lines += [f"  next runs: {runs}", f"  last run:  {last}"]
    return "\n".join(lines)
