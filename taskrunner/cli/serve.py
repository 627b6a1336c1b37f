"""``taskrunner run`` and ``taskrunner worker``: the long-running commands."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from taskrunner.cli.session import stop_event, temporal_session
from taskrunner.client import connect
from taskrunner.schedules import operations as schedule_ops
from taskrunner.settings import Settings

RULE = "=" * 60


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser(
        "run",
        help="embedded Temporal server (unless TEMPORAL_ADDRESS is set) + worker, until Ctrl-C",
        description="Start the embedded Temporal dev server when no TEMPORAL_ADDRESS is set, "
        "run the worker, and keep running until Ctrl-C.",
    )
    run.set_defaults(handler=run_command)
    worker = subparsers.add_parser(
        "worker",
        help="only the worker, against TEMPORAL_ADDRESS (or a server on the configured port)",
        description="Run the worker until SIGINT/SIGTERM; same as `python worker.py`.",
    )
    worker.set_defaults(handler=worker_command)


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    stop = stop_event()
    async with temporal_session(settings) as session:
        applied = await schedule_ops.apply_schedules(session.client, settings)
        print(RULE)
        print("SCHEDULED TASK RUNNER")
        print(RULE)
        print(f"Started at: {datetime.now(UTC).isoformat(timespec='seconds')}")
        print(f"Temporal:   {session.client.service_client.config.target_host}")
        if session.ui_url:
            print(f"Web UI:     {session.ui_url}")
        print(f"Task queue: {settings.task_queue}")
        print(f"Data dir:   {settings.data_dir.resolve()}")
        print(f"Schedules ({settings.timezone}):")
        for result in applied:
            if result.action == "deleted":
                print(f"  {result.name:<16} deleted (no longer declared)")
                continue
            view = await schedule_ops.view(session.client, settings, result.name, next_count=1)
            next_run = view.next_runs[0].strftime("%Y-%m-%d %H:%M %Z") if view.next_runs else "-"
            state = "PAUSED" if view.paused else f"next run {next_run}"
            print(f"  {view.name:<16} {' | '.join(view.cron):<24} {state}")
        print("Press Ctrl-C to stop.", flush=True)
        await stop.wait()
        from taskrunner.worker import GRACEFUL_SHUTDOWN

        print(
            f"Stopping: running tasks get {GRACEFUL_SHUTDOWN.seconds} s to finish, then the "
            "server stops (Ctrl-C again: stop now)...",
            flush=True,
        )
    return stop.exit_code


async def worker_command(args: argparse.Namespace, settings: Settings) -> int:
    from taskrunner.worker import run_worker

    stop = stop_event()
    client = await connect(settings)
    print(f"Worker polling {settings.task_queue!r} on {client.service_client.config.target_host}")
    await run_worker(settings, client, stop)
    return stop.exit_code
