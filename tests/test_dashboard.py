"""The dashboard over HTTP: who may use it, what a page sends, and how it is served.

The app is the real one (``build_app``) over the session's dev server; requests go
through httpx, in process, or to the real server ``dashboard_server`` starts.
"""

from __future__ import annotations

import html
import re
import socket
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from taskrunner.dashboard import build_app, dashboard_server
from taskrunner.dashboard.auth import COOKIE
from taskrunner.errors import ConfigError
from taskrunner.queue.client import QueueClient
from tests.helpers import free_port
from tests.helpers.browser import dashboard_client

TOKEN = "s3cret-token-for-the-test"
TOKEN_ENV = "TASKRUNNER_DASHBOARD_TOKEN"
CSS = "/static/dashboard.css"


def test_beyond_loopback_without_a_token_it_refuses_to_start(
    make_settings: Any, dev_client: Client
) -> None:
    settings = make_settings(dashboard={"host": "0.0.0.0"})
    with pytest.raises(ConfigError) as caught:
        build_app(settings, dev_client)
    line = str(caught.value)
    assert "\n" not in line
    assert line.startswith("the dashboard would listen on 0.0.0.0, beyond loopback, without")
    assert TOKEN_ENV in line and "dashboard.host" in line


async def test_a_set_token_is_required_by_header_or_by_a_link_that_sets_a_cookie(
    make_settings: Any, dev_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    app = build_app(make_settings(dashboard={"host": "0.0.0.0"}), dev_client)
    async with dashboard_client(app, htmx=False) as http:
        refused = await http.get(CSS)
        assert refused.status_code == 401
        assert refused.text.count("\n") == 1 and TOKEN_ENV in refused.text
        assert (await http.get(CSS, headers={"Authorization": "Bearer nope"})).status_code == 401
        bearer = await http.get(CSS, headers={"Authorization": f"Bearer {TOKEN}"})
        assert bearer.status_code == 200 and "--accent" in bearer.text

        assert (await http.get("/queues?token=nope")).status_code == 401
        link = await http.get(f"/queues?x=1&token={TOKEN}")
        assert link.status_code == 303
        assert link.headers["location"] == "/queues?x=1"  # the token leaves the address
        cookie = link.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE}=") and "httponly" in cookie.lower()
        assert TOKEN not in cookie and "samesite=lax" in cookie.lower()
        http.cookies.set(COOKIE, link.cookies[COOKIE])
        page = await http.get("/queues")
        assert page.status_code == 200 and "<h1>Queues</h1>" in page.text


async def test_without_a_token_it_answers_loopback_host_names_only(
    make_settings: Any, dev_client: Client
) -> None:
    app = build_app(make_settings(), dev_client)
    async with dashboard_client(app) as http:
        assert (await http.get(CSS)).status_code == 200
        assert (await http.get(CSS, headers={"Host": "localhost:8235"})).status_code == 200
        # A name elsewhere pointed at 127.0.0.1 (DNS rebinding) is not this dashboard.
        rebound = await http.get(CSS, headers={"Host": "attacker.example:8235"})
        assert rebound.status_code == 421


async def test_an_action_without_the_htmx_header_is_refused(
    make_settings: Any, dev_client: Client
) -> None:
    app = build_app(make_settings(), dev_client)
    async with dashboard_client(app, htmx=False) as http:
        # What a form on another site could send: no HX-Request header.
        refused = await http.post("/queues/anything/purge")
        assert refused.status_code == 403 and refused.text.count("\n") == 1


async def test_pages_poll_their_live_part_at_the_set_interval(
    make_settings: Any, dev_client: Client
) -> None:
    settings = make_settings(dashboard={"refresh_seconds": 0.5}, queue={"name": "dash-poll"})
    app = build_app(settings, dev_client)
    async with dashboard_client(app, htmx=False) as http:
        page = (await http.get("/queues/dash-poll")).text
        assert '<div id="live" hx-get="/queues/dash-poll" hx-trigger="every 0.5s, ' in page
        assert "<html" in page and "Enqueue a task" in page
        # Every script and style is the dashboard's own: nothing from elsewhere at run time.
        assert re.findall(r'(?:src|href)="(/static/[^"]+)"', page) == [
            "/static/dashboard.css",
            "/static/htmx.min.js",
        ]
        assert "://" not in "".join(re.findall(r"<(?:script|link)[^>]*>", page))
        live = await http.get("/queues/dash-poll", headers={"HX-Request": "true"})
        assert "<html" not in live.text and "Enqueue a task" not in live.text
        assert '<p class="error">no worker polls task queue' in live.text  # none runs here
        htmx = await http.get("/static/htmx.min.js")
        assert htmx.status_code == 200 and 'version:"2.' in htmx.text


async def test_an_unknown_schedule_action_answers_one_line(
    make_settings: Any, dev_client: Client
) -> None:
    app = build_app(make_settings(schedules={"id_prefix": "dash-none-"}), dev_client)
    async with dashboard_client(app) as http:
        answer = await http.post("/schedules/health-monitor/pause")
        assert answer.status_code == 422
        assert "does not exist on the server; run `taskrunner schedules apply`" in html.unescape(
            answer.text
        )
        assert answer.headers["HX-Trigger"] == "refresh"


async def test_the_server_serves_until_the_block_ends(
    make_settings: Any, dev_client: Client
) -> None:
    port = free_port()
    settings = make_settings(dashboard={"port": port})
    async with dashboard_server(settings, dev_client) as served:
        assert served.url == f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as http:
            answer = await http.get(f"{served.url}{CSS}")
        assert answer.status_code == 200
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as http:
            await http.get(f"{served.url}{CSS}")


async def test_a_taken_port_is_one_line_naming_the_setting(
    make_settings: Any, dev_client: Client
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        settings = make_settings(dashboard={"port": port})
        with pytest.raises(ConfigError) as caught:
            async with dashboard_server(settings, dev_client):
                pass
    line = str(caught.value)
    assert line.startswith(f"the dashboard cannot listen on 127.0.0.1:{port} (")
    assert "dashboard.port (TASKRUNNER_DASHBOARD__PORT)" in line and "\n" not in line


async def test_without_a_worker_queue_pages_and_commands_say_so_at_once(
    make_settings: Any, dev_client: Client
) -> None:
    settings = make_settings()
    app = build_app(settings, dev_client)
    nobody = f"no worker polls task queue {settings.task_queue!r} to answer (start taskrunner run"
    async with dashboard_client(app) as http:
        page = await http.get("/queues/dash-lonely")
        assert nobody in html.unescape(page.text)
        refused = await http.post("/queues/dash-lonely/pause")
        assert refused.status_code == 422 and nobody in html.unescape(refused.text)
        form = {"type": "noop"}
        enqueue = await http.post("/queues/dash-lonely/enqueue", data=form)
        assert enqueue.status_code == 422 and nobody in html.unescape(enqueue.text)
    assert not await QueueClient(dev_client, settings, "dash-lonely").exists()
