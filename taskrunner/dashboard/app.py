"""The dashboard's application: its pages, and what they share.

Every page reads Temporal through the client code the CLI uses (``QueueClient``, the
schedule and job operations, ``collect_status``): there is no second source of truth
and no database of its own. A page is served whole on a visit; htmx then asks the same
address again every ``dashboard.refresh_seconds`` and gets only its live part back
(requests htmx sends carry ``HX-Request``). Actions answer with one line and ask the
live part to refresh at once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from temporalio.client import Client
from temporalio.service import RPCError

from taskrunner.client import remote_address_configured
from taskrunner.dashboard.auth import Gate, dashboard_token
from taskrunner.errors import UserError
from taskrunner.events import first_line
from taskrunner.settings import Settings
from taskrunner.status.collect import collect_status
from taskrunner.tasks.loading import task_registry

T = TypeVar("T")

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
ANSWER_SECONDS = 15.0
"""How long a page waits for Temporal before it says who did not answer (a queue's
queries need a worker; a schedule's trigger waits up to 10 s for its run to start)."""
REFRESH_EVENT = "refresh"
"""The event an action's answer triggers (``HX-Trigger``): live parts reload at once."""


@dataclass(frozen=True)
class Dashboard:
    """What every page works with."""

    settings: Settings
    client: Client
    templates: Jinja2Templates
    ui_url: str | None
    """Base URL of the Temporal web UI (None: pages show no link to it)."""
    task_types: list[str]
    """The task types this process knows (the enqueue form offers them)."""

    def workflow_url(self, workflow_id: str | None) -> str | None:
        """The web UI's page of a workflow (its latest run), or None."""
        if self.ui_url is None or not workflow_id:
            return None
        namespace = quote(self.client.namespace, safe="")
        return f"{self.ui_url}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"

    def page(self, request: Request, name: str, status_code: int = 200, **values: Any) -> Response:
        """``name`` rendered; for an htmx request, only its live part (``_<name>``)."""
        live = is_htmx(request)
        context = {
            "refresh": self.settings.dashboard.refresh_seconds,
            "dashboard": self,
            **values,
        }
        template = f"_{name}" if live else name
        answer = self.templates.TemplateResponse(
            request, template, context, status_code=status_code
        )
        answer.headers["Vary"] = "HX-Request"
        answer.headers["Cache-Control"] = "no-store"
        return answer

    def said(self, request: Request, message: str, ok: bool = True) -> Response:
        """An action's answer: one line, and every live part refreshes."""
        answer = self.templates.TemplateResponse(
            request,
            "_message.html",
            {"message": message, "ok": ok},
            status_code=200 if ok else 422,
        )
        answer.headers["HX-Trigger"] = REFRESH_EVENT
        return answer


def dashboard_of(request: Request) -> Dashboard:
    found: Dashboard = request.app.state.dashboard
    return found


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


async def ask(call: Awaitable[T]) -> T:
    """``call``'s answer; what went wrong as a one-line UserError (as the CLI says it)."""
    try:
        async with asyncio.timeout(ANSWER_SECONDS):
            return await call
    except TimeoutError:
        raise UserError(
            f"no answer from Temporal within {ANSWER_SECONDS:g} s: is a worker running "
            "(taskrunner run or taskrunner worker)?"
        ) from None
    except RPCError as err:
        raise UserError(
            f"Temporal refused the request: {first_line(str(err), limit=300)}"
        ) from None


async def answer_or_error(call: Awaitable[T]) -> tuple[T | None, str | None]:
    """``(answer, None)`` or ``(None, the one line)``."""
    try:
        return await ask(call), None
    except UserError as err:
        return None, str(err)


async def overview(request: Request) -> Response:
    dashboard = dashboard_of(request)
    status, error = await answer_or_error(collect_status(dashboard.client, dashboard.settings))
    return dashboard.page(request, "overview.html", status=status, error=error)


def default_ui_url(settings: Settings) -> str | None:
    """The Temporal web UI pages link to: the setting, else the embedded server's."""
    if settings.dashboard.temporal_ui_url:
        return settings.dashboard.temporal_ui_url.rstrip("/")
    if remote_address_configured():
        return None
    return f"http://127.0.0.1:{settings.ui_port}"


def templates(settings: Settings) -> Jinja2Templates:
    zone = ZoneInfo(settings.timezone)

    def when(value: datetime | None) -> str:
        if value is None:
            return "-"
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["when"] = when
    env.filters["segment"] = lambda text: quote(str(text), safe="")
    env.filters["pretty"] = lambda value: json.dumps(value, indent=2, sort_keys=True, default=str)
    env.globals["seconds"] = lambda value: f"{value:g}s"
    return Jinja2Templates(env=env)


def build_app(settings: Settings, client: Client) -> Starlette:
    """The dashboard as an ASGI app (``dashboard_server`` serves it; tests call it).

    Refuses (ConfigError, one line) to listen beyond loopback without a token.
    """
    from taskrunner.dashboard import queue_pages, report_pages, schedule_pages

    token = dashboard_token(settings)
    routes: list[BaseRoute] = [
        Route("/", overview, name="overview"),
        *queue_pages.routes(),
        *schedule_pages.routes(),
        *report_pages.routes(),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(Gate, token=token, token_env=settings.dashboard.token_env)],
    )
    app.state.dashboard = Dashboard(
        settings=settings,
        client=client,
        templates=templates(settings),
        ui_url=default_ui_url(settings),
        task_types=sorted(task_registry(settings)),
    )
    return app


def not_found(request: Request, line: str) -> Response:
    """A page that does not exist (an unknown queue name, say), in one line."""
    answer = dashboard_of(request).templates.TemplateResponse(
        request, "missing.html", {"message": line}, status_code=404
    )
    return answer
