"""``taskrunner schedules ...``: apply and operate the declared Temporal Schedules."""

from __future__ import annotations

import argparse
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from temporalio.client import Client

from taskrunner.cli.confirm import confirmed
from taskrunner.cli.session import Serving, temporal_session
from taskrunner.errors import UserError
from taskrunner.schedules import operations as schedule_ops
from taskrunner.schedules.declarations import DECLARATIONS, declaration
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
        ("trigger", "start the schedule's workflow now; print the id of the run"),
    ]:
        sub.add_parser(name, help=text).add_argument("name")
    delete = sub.add_parser(
        "delete", help="delete the schedule (apply re-creates it unless disabled in settings)"
    )
    delete.add_argument("name")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
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
    if args.action == "delete" and not args.yes and not await confirm_delete(args.name):
        print(f"kept {args.name}")
        return 1
    async with temporal_session(settings, Serving.NONE) as session:
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
            started = await schedule_ops.trigger(client, settings, args.name)
            own_server = session.server is not None
            print(render_triggered(args.name, started, client, session.ui_url, own_server))
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


async def confirm_delete(name: str) -> bool:
    declaration(name)  # an unknown name is refused before anything is asked
    return await confirmed(
        f"Delete schedule {name}? `taskrunner schedules apply` re-creates it unless it is "
        "disabled in settings.",
        f"schedules delete {name} asks for confirmation: add --yes to delete",
    )


def render_triggered(
    name: str,
    started: schedule_ops.Triggered,
    client: Client,
    ui_url: str | None,
    own_server: bool,
) -> str:
    """Which run the trigger started, and how to look at it (web UI, temporal CLI)."""
    if started.skipped:
        return f"triggered {name}, but it was skipped: its previous run is still going"
    if started.workflow_id is None:
        return f"triggered {name}; its run is not shown yet (see: taskrunner schedules list)"
    address = client.service_client.config.target_host
    lines = [f"triggered {name}: started workflow {started.workflow_id}"]
    if ui_url and started.run_id:
        path = f"{quote(client.namespace)}/workflows/{quote(started.workflow_id, safe='')}"
        lines.append(f"  web UI: {ui_url}/namespaces/{path}/{started.run_id}/history")
    lines.append(
        f"  CLI:    temporal workflow describe --workflow-id {started.workflow_id} "
        f"--address {address} --namespace {client.namespace}"
    )
    if own_server:
        # This command started the embedded server for itself: nothing serves the run now.
        lines.append("  The embedded server stops with this command: `taskrunner run` runs it.")
    return "\n".join(lines)


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
