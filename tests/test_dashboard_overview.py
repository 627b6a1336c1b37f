"""The dashboard's overview shows the facts of ``taskrunner status``: the same known
state the status test builds on the dev server, read from the page as an operator sees
it (tags stripped)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from temporalio.client import Client

from taskrunner.dashboard import build_app
from taskrunner.schedules.declarations import DECLARATIONS
from tests.helpers.browser import dashboard_client
from tests.helpers.status import ALERT, known_state, status_settings


def page_text(page: str) -> str:
    """What the page says: tags out, entities decoded, whitespace collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


@pytest.mark.devserver
async def test_the_overview_shows_what_status_shows(
    dev_client: Client, make_settings: Any, make_worker: Any
) -> None:
    settings = status_settings(make_settings)
    async with known_state(dev_client, settings, make_worker) as known:
        app = build_app(settings, dev_client)
        async with dashboard_client(app, htmx=False) as http:
            said = page_text((await http.get("/")).text)
    assert "reachable" in said and "unreachable" not in said
    assert f"Task queue {settings.task_queue} · 1 worker(s) {settings.worker.identity}" in said
    queue = settings.queue.name
    assert re.search(rf"{queue} paused 1 0 1 1 0 3 0\.2", said), said
    for declared in DECLARATIONS:  # each schedule with its cron, zone and next run
        row = rf"{declared.name} 0 3 1 1 \* \(Europe/Berlin\) active \d{{4}}-01-01 \d\d:00:00"
        assert re.search(row, said), declared.name
    assert re.search(r"health-monitor .*? → completed", said)
    assert "Health healthy checked" in said
    assert "CPU 12.0% · memory 40.0% · disk 30.0%" in said
    failed = f"Task {known.task_ids['failed']} failed after 1 attempt: InvalidTaskData"
    assert f"error task-queue/{queue} /" in said and failed in said
    assert f"critical {ALERT[0]} / {ALERT[1]}" in said and ALERT[2] in said
    assert f"Last maintenance {settings.database.name}: completed" in said
