"""The dashboard under test: over httpx in process, or served and driven in a real Chromium.

The browser is Debian's ``chromium`` (``.ci/run`` installs it), driven by Playwright's
Python package with its own driver; Playwright never downloads a browser here.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp
from temporalio.client import Client

from taskrunner.settings import Settings
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / ".test-output" / "screenshots"
"""Where each browser test leaves a picture of the pages it saw (git ignores the folder)."""
WAIT_MS = 30_000
"""Longest a browser step waits for what it expects (the pages refresh in place)."""


@contextlib.asynccontextmanager
async def dashboard_client(app: ASGIApp, htmx: bool = True) -> AsyncIterator[httpx.AsyncClient]:
    """httpx against the app in process, as a browser on this machine reaches it; ``htmx``:
    with the header the dashboard's own pages send."""
    headers = {"HX-Request": "true"} if htmx else {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1:8235", headers=headers
    ) as http:
        yield http


def needs_chromium() -> None:
    """Skip, saying why, where Debian's chromium is not installed."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does): "
            "the dashboard's browser tests drive a real Chromium"
        )


def dashboard_settings(make_settings: Any, **overrides: Any) -> Settings:
    """Settings for a served dashboard: a port of its own, fast refreshes."""
    dashboard = {"port": free_port(), "refresh_seconds": 0.5, **overrides.pop("dashboard", {})}
    settings: Settings = make_settings(dashboard=dashboard, **overrides)
    return settings


@contextlib.asynccontextmanager
async def browsing(settings: Settings, client: Client) -> AsyncIterator[Any]:
    """The dashboard served on its settings' port, and a Chromium page with ``base_url``
    there (``await page.goto("/queues")``)."""
    from playwright.async_api import async_playwright

    from taskrunner.dashboard import dashboard_server

    needs_chromium()
    async with (
        dashboard_server(settings, client) as served,
        async_playwright() as playwright,
    ):
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        try:
            context = await browser.new_context(
                base_url=served.url, viewport={"width": 1280, "height": 900}
            )
            context.set_default_timeout(WAIT_MS)
            yield await context.new_page()
        finally:
            await browser.close()


async def screenshot(page: Any, name: str) -> Path:
    """A full-page picture of what the browser shows now, as ``<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
