"""``taskrunner run`` and ``taskrunner worker``: the long-running commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from temporalio.client import Client

from taskrunner.cli.logs import LOG_FILE
from taskrunner.cli.session import StopSignal, stop_event
from taskrunner.client import connect, remote_address_configured
from taskrunner.devserver import DevServer, port_open
from taskrunner.encryption import load_keys
from taskrunner.encryption.server import CodecServer, codec_server
from taskrunner.errors import UserError
from taskrunner.jobs import operations as job_ops
from taskrunner.observability import search_attributes
from taskrunner.observability.runtime import metrics_url, worker_runtime
from taskrunner.schedules import operations as schedule_ops
from taskrunner.settings import Settings
from taskrunner.supervisor import GAVE_UP, supervise
from taskrunner.tasks.loading import task_registry
from taskrunner.tasks.registry import TaskRegistry
from taskrunner.worker import build_worker, use_task_threads

RULE = "=" * 60
PROBE_TIMEOUT_SECONDS = 3.0
"""How long to wait for a Temporal answer on a taken port."""


MAX_PROCESSES = 64


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
    worker.add_argument(
        "--processes",
        type=int,
        default=1,
        metavar="N",
        help="run N worker processes on this machine (default 1): one core each",
    )
    worker.set_defaults(handler=worker_command)
    for command in (run, worker):
        command.add_argument(
            "--task-module",
            action="append",
            default=[],
            metavar="MODULE",
            help="import this module's @task_type declarations too (repeatable; "
            "adds to the task_modules setting)",
        )


def with_task_modules(
    args: argparse.Namespace, settings: Settings
) -> tuple[Settings, TaskRegistry]:
    """The settings with ``--task-module`` added, and the registry they make (built and
    checked now, before anything starts; the worker and the banner use this one)."""
    modules = [*settings.task_modules, *args.task_module]
    settings = settings.model_copy(update={"task_modules": list(dict.fromkeys(modules))})
    return settings, task_registry(settings)


async def run_command(args: argparse.Namespace, settings: Settings) -> int:
    settings, task_types = with_task_modules(args, settings)
    use_task_threads(settings.worker)
    if settings.dashboard.enabled:
        from taskrunner.dashboard.auth import dashboard_token  # the web stack: run only

        dashboard_token(settings)  # none beyond loopback: refused before anything starts
    stop = stop_event()
    async with runner_server(settings) as (server, codec):
        client = await connect(settings, runtime=worker_runtime(settings.metrics, settings.logs))
        if server is not None:  # ours: a data dir from before lacks the search attributes
            await search_attributes.register(client)
        async with (
            build_worker(client, settings, task_types=task_types),
            _dashboard(settings, client) as dashboard,
        ):
            await print_banner(client, settings, task_types, server, codec, dashboard)
            watcher = asyncio.create_task(_watch(server, stop)) if server else None
            await stop.wait()
            if watcher is not None:
                watcher.cancel()
            if stop.code == GAVE_UP:
                _stop_now_without_a_server()
            print(
                f"Stopping: running tasks get {settings.worker.graceful_shutdown_seconds:g} s to "
                "finish, then the server stops (Ctrl-C again: stop now)...",
                flush=True,
            )
    return stop.exit_code


@contextlib.asynccontextmanager
async def _dashboard(settings: Settings, client: Client) -> AsyncIterator[str | None]:
    """The operations dashboard's URL while it serves beside the worker (None: turned off)."""
    if not settings.dashboard.enabled:
        yield None
        return
    from taskrunner.dashboard import dashboard_server

    async with dashboard_server(settings, client) as served:
        yield served.url


@contextlib.asynccontextmanager
async def runner_server(
    settings: Settings,
) -> AsyncIterator[tuple[DevServer | None, CodecServer | None]]:
    """The embedded server the runner owns (None when TEMPORAL_ADDRESS names one) and,
    when payloads are encrypted, the codec server its web UI decrypts them through."""
    if remote_address_configured():
        yield None, None
        return
    await refuse_taken_ports(settings)
    ring = load_keys(settings.encryption)
    codec = codec_server(settings, ring=ring) if ring else None
    ui_codec = ["--ui-codec-endpoint", codec.url] if codec else []
    server = DevServer(
        settings.data_dir, settings.server_port, settings.ui_port, extra_args=ui_codec
    )
    with codec or contextlib.nullcontext():
        await server.start_async()
        try:
            yield server, codec
        finally:
            await asyncio.to_thread(server.stop)


async def refuse_taken_ports(settings: Settings) -> None:
    """One line when the runner's ports are taken: what holds them and what to change.

    The runner never silently joins a server it did not start (another runner's, with
    another data dir): that takes ``TEMPORAL_ADDRESS``.
    """
    host, port = "127.0.0.1", settings.server_port
    if port_open(host, port):
        if await _temporal_answers(settings):
            held = "a Temporal server answers there (another taskrunner run?)"
            join = f", or TEMPORAL_ADDRESS={host}:{port} to add this worker to that server"
        else:
            held, join = "something that is not a Temporal server holds it", ""
        raise UserError(
            f"server port {port} on {host} is taken: {held}; set server_port "
            f"(TASKRUNNER_SERVER_PORT) to start another server{join}"
        )
    if port_open(host, settings.ui_port):
        raise UserError(
            f"web UI port {settings.ui_port} on {host} is taken; stop what runs there "
            "or set ui_port (TASKRUNNER_UI_PORT)"
        )


async def _temporal_answers(settings: Settings) -> bool:
    quick = settings.model_copy(update={"connect_timeout_seconds": PROBE_TIMEOUT_SECONDS})
    try:
        await connect(quick)
    except UserError:
        return False
    return True


def _stop_now_without_a_server() -> None:
    """The server is gone for good: nothing in flight can report its result, so waiting
    for the worker's graceful shutdown (which keeps calling the dead server) helps no one."""
    from taskrunner.cli import exit_now

    print("Stopping now: without a server, running tasks will be retried later", flush=True)
    exit_now(GAVE_UP)


async def _watch(server: DevServer, stop: StopSignal) -> None:
    code = await supervise(server, _say)
    stop.fail(code)


def _say(line: str) -> None:
    stamp = datetime.now().strftime("%H:%M:%S")
    print(f"{stamp} {line}", flush=True)


async def print_banner(
    client: Client,
    settings: Settings,
    task_types: TaskRegistry,
    server: DevServer | None,
    codec: CodecServer | None = None,
    dashboard: str | None = None,
) -> None:
    applied = await schedule_ops.apply_schedules(client, settings, task_types)
    print(RULE)
    print("SCHEDULED TASK RUNNER")
    print(RULE)
    print(f"Started at: {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"Temporal:   {client.service_client.config.target_host}")
    if server is not None and server.ui_url:
        print(f"Web UI:     {server.ui_url}")
    if dashboard is not None:
        print(f"Dashboard:  {dashboard}")
    if codec is not None:
        print(f"Codec:      {codec.url} (payloads are encrypted; the web UI decrypts through it)")
    print(f"Task queue: {settings.task_queue}")
    print(f"Task types: {task_types.names()}")
    print(f"Data dir:   {settings.data_dir.resolve()}")
    print(f"Log file:   {(settings.data_dir / LOG_FILE).resolve()}")
    print(f"Metrics:    {metrics_url(settings.metrics) or 'off (metrics.enabled = false)'}")
    print(f"Schedules ({settings.timezone}):")
    rows = []
    for result in applied:
        if result.action == "deleted":
            rows.append((result.name, "deleted (no longer declared)", ""))
            continue
        if result.kind == "job":
            job = await job_ops.view_job(client, settings, result.name, next_count=1)
            label, spec, paused, runs = f"job {result.name}", job.spec, job.paused, job.next_runs
        else:
            view = await schedule_ops.view(client, settings, result.name, next_count=1)
            label, spec, paused, runs = view.name, view.cron, view.paused, view.next_runs
        next_run = runs[0].strftime("%Y-%m-%d %H:%M %Z") if runs else "-"
        rows.append((label, " | ".join(spec), "PAUSED" if paused else f"next run {next_run}"))
    names = max((len(row[0]) for row in rows), default=0)
    specs = max((len(row[1]) for row in rows if row[2]), default=0)
    for label, shown, state in rows:
        print(f"  {label:<{names}}  {shown:<{specs}}  {state}".rstrip())
    print("Press Ctrl-C to stop.", flush=True)


async def worker_command(args: argparse.Namespace, settings: Settings) -> int:
    settings, task_types = with_task_modules(args, settings)
    if not 1 <= args.processes <= MAX_PROCESSES:
        raise UserError(f"--processes {args.processes}: give 1 to {MAX_PROCESSES}")
    if args.processes > 1:
        from taskrunner.cli.processes import run_processes

        return await run_processes(settings, args.processes, args.task_module)
    use_task_threads(settings.worker)
    stop = stop_event()
    client = await connect(settings, runtime=worker_runtime(settings.metrics, settings.logs))
    print(
        f"Worker polling {settings.task_queue!r} on {client.service_client.config.target_host} "
        f"(task types: {task_types.names()})",
        flush=True,  # a supervisor reading a pipe sees it now, not at exit
    )
    print(
        f"Metrics at {metrics_url(settings.metrics) or 'none (metrics.enabled = false)'}",
        flush=True,
    )
    async with build_worker(client, settings, task_types=task_types):
        await stop.wait()
    return stop.exit_code
