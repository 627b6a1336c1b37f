"""The schedules page: the runner's declared schedules and the periodic jobs, with pause,
unpause and trigger, through the operations ``taskrunner schedules`` and ``jobs`` use."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from temporalio.client import Client

from taskrunner.dashboard.app import Dashboard, answer_or_error, ask, dashboard_of, not_found
from taskrunner.errors import UserError
from taskrunner.jobs import operations as job_ops
from taskrunner.schedules import operations as schedule_ops
from taskrunner.schedules.declarations import DECLARATIONS
from taskrunner.settings import Settings

NOTE = "from the dashboard"
"""The note a pause or unpause leaves on the schedule (shown by ``schedules list``)."""

Operation = Callable[[Client, Settings, str], Awaitable[Any]]
SCHEDULE_ACTIONS: dict[str, Operation] = {
    "pause": lambda c, s, n: schedule_ops.pause(c, s, n, f"paused {NOTE}"),
    "unpause": lambda c, s, n: schedule_ops.unpause(c, s, n, f"unpaused {NOTE}"),
    "trigger": schedule_ops.trigger,
}
JOB_ACTIONS: dict[str, Operation] = {
    "pause": lambda c, s, n: job_ops.pause_job(c, s, n, f"paused {NOTE}"),
    "resume": lambda c, s, n: job_ops.resume_job(c, s, n, f"resumed {NOTE}"),
    "trigger": job_ops.trigger_job,
}
DONE = {"pause": "paused", "unpause": "unpaused", "resume": "resumed"}


async def schedules_page(request: Request) -> Response:
    dashboard = dashboard_of(request)
    client, settings = dashboard.client, dashboard.settings
    views = await asyncio.gather(
        *(answer_or_error(schedule_ops.view(client, settings, d.name)) for d in DECLARATIONS)
    )
    schedules = [(d.name, v, e) for d, (v, e) in zip(DECLARATIONS, views, strict=True)]
    jobs, error = await answer_or_error(job_ops.list_jobs(client, settings))
    return dashboard.page(
        request,
        "schedules.html",
        schedules=schedules,
        jobs=[j for j in jobs or [] if isinstance(j, job_ops.JobView)],
        job_errors=[str(j) for j in jobs or [] if isinstance(j, UserError)],
        error=error,
    )


async def schedule_action(request: Request) -> Response:
    return await _act(request, "schedule", SCHEDULE_ACTIONS)


async def job_action(request: Request) -> Response:
    return await _act(request, "job", JOB_ACTIONS)


async def _act(request: Request, kind: str, actions: dict[str, Operation]) -> Response:
    name, action = request.path_params["name"], request.path_params["action"]
    operation = actions.get(action)
    if operation is None:
        return not_found(request, f"no such {kind} action: {action}")
    dashboard = dashboard_of(request)
    try:
        done = await ask(operation(dashboard.client, dashboard.settings, name))
    except UserError as err:
        return dashboard.said(request, str(err), ok=False)
    if isinstance(done, schedule_ops.Triggered):
        return dashboard.said(request, triggered(dashboard, f"{kind} {name}", done))
    return dashboard.said(request, f"{DONE[action]} {kind} {name}")


def triggered(dashboard: Dashboard, what: str, started: schedule_ops.Triggered) -> str:
    """What a trigger started, as ``schedules trigger`` says it."""
    if started.skipped:
        return f"triggered {what}, but it was skipped: its previous run is still going"
    if started.workflow_id is None:
        return f"triggered {what}; its run is not shown yet"
    return f"triggered {what}: started workflow {started.workflow_id}"


def routes() -> list[BaseRoute]:
    return [
        Route("/schedules", schedules_page, name="schedules"),
        Route("/schedules/{name}/{action}", schedule_action, methods=["POST"]),
        Route("/jobs/{name}/{action}", job_action, methods=["POST"]),
    ]
