"""``taskrunner dashboard``: only the operations dashboard, until Ctrl-C.

``taskrunner run`` serves the dashboard beside its worker; this command serves it alone,
against the configured server (``TEMPORAL_ADDRESS``, or the embedded one), e.g. on a
machine other than the workers'.
"""

from __future__ import annotations

import argparse

from taskrunner.cli.session import Serving, stop_event, temporal_session
from taskrunner.settings import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "dashboard",
        help="serve the operations dashboard (queues, schedules, status) until Ctrl-C",
        description="Serve the operations dashboard on dashboard.host:dashboard.port "
        "(127.0.0.1:8235 by default; beyond loopback it needs the token named by "
        "dashboard.token_env) until Ctrl-C or SIGTERM.",
    )
    parser.set_defaults(handler=dashboard_command)


async def dashboard_command(args: argparse.Namespace, settings: Settings) -> int:
    # Here, not at the top: the web stack loads only for this command.
    from taskrunner.dashboard import dashboard_server
    from taskrunner.dashboard.auth import dashboard_token

    dashboard_token(settings)  # no token beyond loopback: refused before anything starts
    stop = stop_event()
    async with (
        temporal_session(settings, Serving.NONE) as session,
        dashboard_server(settings, session.client) as served,
    ):
        print(f"Dashboard: {served.url} (Ctrl-C stops it)", flush=True)
        await stop.wait()
    print("Dashboard stopped", flush=True)
    return 0
