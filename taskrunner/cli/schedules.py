"""``taskrunner schedules ...``: apply and operate the declared Temporal Schedules."""

from __future__ import annotations

import argparse
from datetime import datetime
from zoneinfo import ZoneInfo

from taskrunner.cli.session import temporal_session
from taskrunner.errors import UserError
from taskrunner.schedules import operations as schedule_ops
from taskrunner.schedules.declarations import DECLARATIONS
from taskrunner.settings import Settings

TIME_FORMAT = "%Y-%m-%d %H:%M %Z"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schedules",
        help="apply, list and operate the runner's Temporal Schedules",
        description="The schedules declared in taskrunner/schedules.py: "
        + ", ".join(d.name for d in DECLARATIONS),
    )
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    sub.add_parser("apply", help="create / update / delete so the server matches the declarations")
    sub.add_parser(
        "list", help="every schedule: spec, zone, paused, overlap, next 3 runs, last run"
    )
    for name, text in [
        ("describe", "one schedule in detail"),
        ("trigger", "start the schedule's workflow now"),
        ("delete", "delete the schedule (apply re-creates it unless disabled in settings)"),
    ]:
        sub.add_parser(name, help=text).add_argument("name")
    for name, text in [("pause", "pause the schedule"), ("unpause", "resume the schedule")]:
        action = sub.add_parser(name, help=text)
        action.add_argument("name")
        action.add_argument("--note", help="why (shown by list and in the web UI)")
    backfill = sub.add_parser("backfill", help="run the fire times of a past range now")
    backfill.add_argument("name")
    backfill.add_argument("--start", required=True, help="ISO time; local zone when no offset")
    backfill.add_argument("--end", required=True, help="ISO time; local zone when no offset")
    parser.set_defaults(handler=schedules_command)


def parse_time(text: str, zone: ZoneInfo, what: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UserError(f"{what} {text!r} is not an ISO time such as 2026-03-29T00:00") from None
    return value if value.tzinfo else value.replace(tzinfo=zone)


async def schedules_command(args: argparse.Namespace, settings: Settings) -> int:
    zone = ZoneInfo(settings.timezone)
    if args.action == "backfill":
        start = parse_time(args.start, zone, "--start")
        end = parse_time(args.end, zone, "--end")
    async with temporal_session(settings, worker=False) as session:
        client = session.client
        if args.action == "apply":
            for result in await schedule_ops.apply_schedules(client, settings):
                print(f"{result.action:<9} {result.id}")
        elif args.action == "list":
            for decl in DECLARATIONS:
                try:
                    print(render_view(await schedule_ops.view(client, settings, decl.name)))
                except UserError as err:
                    print(f"{decl.name}: {err}")
                print()
        elif args.action == "describe":
            view = await schedule_ops.view(client, settings, args.name, next_count=10)
            print(render_view(view))
        elif args.action == "trigger":
            await schedule_ops.trigger(client, settings, args.name)
            print(f"triggered {args.name}")
        elif args.action == "pause":
            await schedule_ops.pause(client, settings, args.name, args.note)
            print(f"paused {args.name}")
        elif args.action == "unpause":
            await schedule_ops.unpause(client, settings, args.name, args.note)
            print(f"unpaused {args.name}")
        elif args.action == "backfill":
            await schedule_ops.backfill(client, settings, args.name, start, end)
            print(f"backfilled {args.name} from {start.isoformat()} to {end.isoformat()}")
        elif args.action == "delete":
            await schedule_ops.delete(client, settings, args.name)
            print(f"deleted {args.name}")
    return 0


def render_view(view: schedule_ops.ScheduleView) -> str:
    state = "PAUSED" + (f" ({view.note})" if view.note else "") if view.paused else "active"
    last = "never"
    if view.last_run is not None:
        last = (
            f"{view.last_run.strftime(TIME_FORMAT)} -> {view.last_result} ({view.last_workflow_id})"
        )
    lines = [
        f"{view.name}  [{state}]",
        f"  workflow:  {view.workflow}",
        f"  spec:      {' | '.join(view.cron)}  ({view.timezone})",
        f"  overlap:   {view.overlap}, catch-up window {view.catchup_window}",
        f"  next runs: {', '.join(t.strftime(TIME_FORMAT) for t in view.next_runs) or 'none'}",
        f"  last run:  {last}",
    ]
    return "\n".join(lines)
