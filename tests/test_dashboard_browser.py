"""The dashboard in a real Chromium: what an operator sees and what the buttons do.

A real worker, queue and schedules on the dev server; the dashboard served by
``dashboard_server``; Chromium driven by Playwright. Each test leaves screenshots of the
pages it saw in ``.test-output/screenshots/``. The tests skip, saying why, only where
``/usr/bin/chromium`` is not installed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from taskrunner.queue.models import TaskSpec
from taskrunner.schedules import operations as schedule_ops
from taskrunner.settings import Settings
from tests.helpers import assert_eventually
from tests.helpers.browser import browsing, dashboard_settings, needs_chromium, screenshot
from tests.helpers.queue import QueueHarness, running_queue
from tests.helpers.schedules import delete_schedules
from tests.test_task_report import run_report

FAR = datetime.fromisoformat("2099-01-01T00:00:00+00:00")


@pytest.fixture
def settings(make_settings: Any) -> Settings:
    needs_chromium()
    # A default queue of the test's own: the overview asks it too.
    return dashboard_settings(make_settings, queue={"name": f"dash-{uuid.uuid4().hex[:8]}"})


@pytest.fixture
async def harness(dev_client: Client, settings: Settings) -> AsyncIterator[QueueHarness]:
    async with running_queue(dev_client, settings) as running:
        yield running


async def one_of_each(harness: QueueHarness) -> dict[str, str]:
    """Two completed tasks, one failed, one waiting for its time: their ids by state."""
    queue = harness.queue
    done = [await queue.enqueue(TaskSpec(type="noop", payload={"n": n})) for n in (1, 2)]
    failed = await queue.enqueue(TaskSpec(type="hopeless", payload={"n": 3}))
    later = await queue.enqueue(TaskSpec(type="noop", run_at=FAR))

    async def settled() -> None:
        stats = await queue.stats()
        assert (stats.completed, stats.failed, stats.pending) == (2, 1, 1), stats

    await assert_eventually(settled)
    return {"completed": done[0].task_id, "failed": failed.task_id, "scheduled": later.task_id}


async def test_the_overview_shows_the_queue_counts_and_purge_asks_first(
    harness: QueueHarness, settings: Settings, dev_client: Client
) -> None:
    await one_of_each(harness)
    name = harness.queue.name
    async with browsing(settings, dev_client) as page:
        await page.goto("/")
        row = page.locator(f"#queue-{name}")
        # The queue appears once the server's visibility lists it (the page refreshes itself).
        for state, count in {"pending": 1, "running": 0, "completed": 2, "failed": 1}.items():
            await row.locator(f'[data-count="{state}"]').filter(has_text=str(count)).wait_for()
        assert "reachable" in await page.locator("[data-field=server]").inner_text()
        await screenshot(page, "overview")

        await page.get_by_role("navigation").get_by_role("link", name="Queues").click()
        row = page.locator(f"#queue-{name}")
        await row.locator('[data-count="completed"]', has_text="2").wait_for()
        await screenshot(page, "queues")
        await row.get_by_role("link", name=name).click()
        await page.wait_for_url(f"**/queues/{name}")
        await page.locator('[data-count="failed"]', has_text="1").wait_for()
        await screenshot(page, "queue")
        # Purging asks first: dismissed, nothing is purged.
        page.once("dialog", lambda dialog: dialog.dismiss())
        await page.get_by_role("button", name="Purge failed").click()
        await page.wait_for_timeout(500)
        assert (await harness.queue.stats()).failed == 1
        page.once("dialog", lambda dialog: dialog.accept())
        await page.get_by_role("button", name="Purge failed").click()
        await page.locator("#flash", has_text="1 failed task(s) purged").wait_for()
        await page.locator('[data-count="failed"]', has_text="0").wait_for()
    stats = await harness.queue.stats()
    assert (stats.failed, stats.purged) == (0, 1)


async def test_a_failed_task_retried_from_its_page_completes(
    harness: QueueHarness, settings: Settings, dev_client: Client
) -> None:
    ids = await one_of_each(harness)
    name, failed = harness.queue.name, ids["failed"]
    async with browsing(settings, dev_client) as page:
        await page.goto(f"/queues/{name}")
        await page.locator('[data-state="failed"]').get_by_role("link", name=failed).click()
        await page.wait_for_url(f"**/queues/{name}/tasks/{failed}")
        status = page.locator("[data-field=status]")
        await status.filter(has_text="failed").wait_for()
        assert "the disk is on fire" in await page.locator("[data-field=error]").inner_text()
        assert '"n": 3' in await page.locator("pre").inner_text()
        link = page.get_by_role("link", name="its queue's workflow")
        expected = f"/namespaces/default/workflows/task-queue%2F{name}"
        assert (await link.get_attribute("href") or "").endswith(expected)
        await screenshot(page, "task-failed")

        harness.ledger.broken = False  # the cause is fixed: the next attempt succeeds
        await page.get_by_role("button", name="Retry").click()
        await page.locator("#flash", has_text=f"task {failed} queued again").wait_for()
        await status.filter(has_text="completed").wait_for()
        await screenshot(page, "task-retried")
    task = await harness.queue.show(failed)
    assert task.status.value == "completed" and task.attempts == 2
    assert harness.ledger.completions[failed] == 1


async def test_an_invalid_payload_in_the_form_is_one_line_and_enqueues_nothing(
    harness: QueueHarness, settings: Settings, dev_client: Client
) -> None:
    queue = harness.queue
    await queue.enqueue(TaskSpec(type="noop", run_at=FAR))  # the queue exists
    before = await queue.stats()
    async with browsing(settings, dev_client) as page:
        await page.goto(f"/queues/{queue.name}")
        form = page.locator("form.enqueue")
        await form.get_by_label("Task type").fill("email")
        await form.get_by_label("Payload").fill('{"subject": "no recipient"}')
        await form.get_by_role("button", name="Enqueue").click()
        error = page.locator("#enqueue-result p.error")
        await error.wait_for()
        said = await error.inner_text()
        assert said.startswith("invalid payload for task type 'email': recipient"), said
        assert "\n" not in said
        await screenshot(page, "enqueue-refused")

        await form.get_by_label("Payload").fill('{"recipient": "ops@example.com",')
        await form.get_by_role("button", name="Enqueue").click()
        await error.filter(has_text="payload is not valid JSON").wait_for()
        assert await queue.stats() == before

        await form.get_by_label("Task type").fill("noop")
        await form.get_by_label("Payload").fill('{"n": 5}')
        await form.get_by_role("button", name="Enqueue").click()
        await page.locator("#enqueue-result p.ok", has_text="Enqueued task").wait_for()
    assert (await queue.stats()).enqueued == before.enqueued + 1


async def test_a_schedule_is_paused_resumed_and_triggered_from_the_schedules_page(
    make_settings: Any, dev_client: Client, make_worker: Any
) -> None:
    needs_chromium()
    prefix = f"t{uuid.uuid4().hex[:8]}-"
    # A cron that does not fire during the test: the triggered run is the last one.
    schedules = {"id_prefix": prefix, "health_monitor": {"cron": ["0 3 1 1 *"]}}
    settings = dashboard_settings(make_settings, schedules=schedules)
    await schedule_ops.apply_schedules(dev_client, settings)
    try:
        async with browsing(settings, dev_client) as page, make_worker(dev_client, settings):
            await page.goto("/schedules")
            row = page.locator("#schedule-health-monitor")
            state = row.locator("[data-field=state]")
            await state.filter(has_text="active").wait_for()
            await row.get_by_role("button", name="Pause").click()
            await page.locator("#flash", has_text="paused schedule health-monitor").wait_for()
            await state.filter(has_text="paused").wait_for()
            view = await schedule_ops.view(dev_client, settings, "health-monitor")
            assert view.paused and view.note == "paused from the dashboard"
            await screenshot(page, "schedules")

            await row.get_by_role("button", name="Unpause").click()
            await state.filter(has_text="active").wait_for()
            assert not (await schedule_ops.view(dev_client, settings, "health-monitor")).paused

            await row.get_by_role("button", name="Trigger now").click()
            flash = page.locator("#flash", has_text="triggered schedule health-monitor: started")
            said = await flash.inner_text()
            await row.locator("[data-field=last-run]", has_text="completed").wait_for()
        view = await schedule_ops.view(dev_client, settings, "health-monitor")
        assert view.last_result == "completed"
        assert f"started workflow {view.last_workflow_id}" in said
    finally:
        await delete_schedules(dev_client, prefix)


async def test_the_reports_page_opens_a_report_the_task_wrote(
    settings: Settings, dev_client: Client
) -> None:
    result = await run_report(settings, "sales", "monthly")
    pdf = Path(result.details["pdf"])
    async with browsing(settings, dev_client) as page:
        await page.goto("/")
        await page.get_by_role("navigation").get_by_role("link", name="Reports").click()
        await page.wait_for_url("**/reports")
        link = page.get_by_role("link", name=pdf.name)
        await link.wait_for()
        await screenshot(page, "reports")
        # Headless Chromium downloads a PDF rather than showing it: fetch what the link
        # names with the page's own session instead.
        response = await page.request.get(await link.get_attribute("href") or "")
        assert response.status == 200
        assert response.headers["content-type"] == "application/pdf"
        assert await response.body() == pdf.read_bytes()
