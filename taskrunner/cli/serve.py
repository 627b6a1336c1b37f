"""``taskrunner run`` and ``taskrunner worker``: the long-running commands."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from taskrunner.cli.session import stop_event, temporal_session
from taskrunner.client import connect
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
        print(RULE)
        print("SCHEDULED TASK RUNNER")
        print(RULE)
        print(f"Started at: {datetime.now(UTC).isoformat(timespec='seconds')}")
        print(f"Temporal:   {session.client.service_client.config.target_host}")
        if session.ui_url:
            print(f"Web UI:     {session.ui_url}")
        print(f"Task queue: {settings.task_queue}")
        print(f"Data dir:   {settings.data_dir.resolve()}")
        print("Press Ctrl-C to stop.", flush=True)
        await stop.wait()
        print("Stopping...", flush=True)
    return 0


async def worker_command(args: argparse.Namespace, settings: Settings) -> int:
    from worker import run_worker

    stop = stop_event()
    client = await connect(settings)
    print(f"Worker polling {settings.task_queue!r} on {client.service_client.config.target_host}")
    await run_worker(settings, client, stop)
    return 0
