"""The dashboard's queue pages over HTTP: a real worker and queue on the dev server.

Enqueue from the form follows the CLI's rules (the same functions build and check the
task); a refused one is its one line, and the queue is left as it was.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import Client

from taskrunner.dashboard import build_app
from taskrunner.errors import UserError
from taskrunner.queue.models import TaskSpec
from taskrunner.queue.specs import check_payload
from taskrunner.settings import Settings
from tests.helpers import assert_eventually
from tests.helpers.browser import dashboard_client
from tests.helpers.queue import QueueHarness, running_queue

FAR = "2099-01-01T00:00:00+00:00"


@pytest.fixture
def dash_settings(make_settings: Any) -> Settings:
    settings: Settings = make_settings(timezone="Europe/Berlin")
    return settings


@pytest.fixture
async def harness(dev_client: Client, dash_settings: Settings) -> AsyncIterator[QueueHarness]:
    async with running_queue(dev_client, dash_settings) as running:
        yield running


def line(answer: Any) -> str:
    """The one line an action answered with (its only paragraph)."""
    found = re.fullmatch(r'<p class="(ok|error)" role="\w+">(.*)</p>\n?', answer.text)
    assert found, answer.text
    return html.unescape(found.group(2))


def cli_refusal(spec: TaskSpec, settings: Settings, queue: str) -> str:
    """What ``taskrunner enqueue`` says of this task before it asks any server."""
    with pytest.raises(UserError) as caught:
        check_payload(spec, settings, queue)
    return str(caught.value)


async def test_a_refused_enqueue_is_one_line_and_leaves_the_queue_unchanged(
    harness: QueueHarness, dash_settings: Settings, dev_client: Client
) -> None:
    queue = harness.queue
    await queue.enqueue(TaskSpec(type="noop", run_at=datetime.fromisoformat(FAR)))
    before = await queue.stats()
    no_recipient = TaskSpec(type="email", payload={"subject": "x"})
    cases = [
        ({"type": "email", "payload": '{"recipient": '}, "payload is not valid JSON: Expecting"),
        ({"type": "email", "payload": "[1]"}, "payload must be a JSON object, e.g. "),
        (
            {"type": "email", "payload": '{"subject": "x"}'},
            cli_refusal(no_recipient, dash_settings, queue.name),
        ),
        (
            {"type": "noop", "priority": "high"},
            "invalid priority: Input should be a valid integer, unable to parse string",
        ),
        (
            {"type": "noop", "run_at": "tomorrow"},
            "run at 'tomorrow' is not an ISO date-time (e.g. 2030-01-31T09:00 or ...Z)",
        ),
        ({"type": "noop", "key": "k" * 201}, "invalid key: String should have at most 200"),
        ({"type": "  "}, "a task type is needed, e.g. email"),
        # A type this process does not know: the queue's own validator refuses it.
        ({"type": "nosuch"}, "unknown task type 'nosuch' (known types: "),
    ]
    app = build_app(dash_settings, dev_client)
    async with dashboard_client(app) as http:
        for form, expected in cases:
            answer = await http.post(f"/queues/{queue.name}/enqueue", data=form)
            assert answer.status_code == 422, (form, answer.text)
            said = line(answer)
            assert said.startswith(expected), (form, said)
            assert "\n" not in said
    assert cases[2][1].startswith("invalid payload for task type 'email': recipient")
    assert await queue.stats() == before


async def test_enqueue_from_the_form_adds_the_task_with_its_options(
    harness: QueueHarness, dash_settings: Settings, dev_client: Client
) -> None:
    queue = harness.queue
    form = {"type": "noop", "payload": '{"n": 3}', "priority": "5", "run_at": "2099-01-01T09:00"}
    app = build_app(dash_settings, dev_client)
    async with dashboard_client(app) as http:
        answer = await http.post(f"/queues/{queue.name}/enqueue", data={**form, "key": "k1"})
        assert answer.status_code == 200 and answer.headers["HX-Trigger"] == "refresh", answer.text
        said = line(answer)
        found = re.fullmatch(rf"Enqueued task (\w+) \(noop\) on queue {queue.name}", said)
        assert found, said
        again = line(await http.post(f"/queues/{queue.name}/enqueue", data={**form, "key": "k1"}))
        task_id = found.group(1)
        assert again == f"Already enqueued (same key): task {task_id} (noop) on queue {queue.name}"
    task = await queue.show(task_id)
    assert (task.spec.payload, task.spec.priority, task.spec.key) == ({"n": 3}, 5, "k1")
    # No offset: the settings' zone, as for `taskrunner enqueue --run-at`.
    assert task.spec.run_at == datetime(2099, 1, 1, 8, 0, tzinfo=UTC)
    assert (await queue.stats()).enqueued == 1


async def test_queue_page_shows_tasks_by_state_and_its_actions_act(
    harness: QueueHarness, dash_settings: Settings, dev_client: Client
) -> None:
    queue = harness.queue
    later = await queue.enqueue(TaskSpec(type="noop", run_at=datetime.fromisoformat(FAR)))
    failing = await queue.enqueue(TaskSpec(type="hopeless", payload={"n": 7}))

    async def failed() -> None:
        assert (await queue.stats()).failed == 1

    await assert_eventually(failed)
    app = build_app(dash_settings, dev_client)
    async with dashboard_client(app) as http:
        page = html.unescape((await http.get(f"/queues/{queue.name}")).text)
        sections = {m[0]: m[1] for m in re.findall(r'data-state="(\w+)">(.*?)</table>', page, re.S)}
        assert set(sections) == {"scheduled", "failed"}
        assert later.task_id in sections["scheduled"] and "Cancel" in sections["scheduled"]
        # The later task is in the pending count, and its list says it is pending too.
        assert '<td class="n" data-count="pending">1</td>' in page
        assert "<h2>Pending, due now</h2>" in page and "<h2>Pending, scheduled (" in page
        assert failing.task_id in sections["failed"] and "the disk is on fire" in sections["failed"]
        assert f"/queues/{queue.name}/tasks/{failing.task_id}/retry" in sections["failed"]
        ui = f"http://127.0.0.1:{dash_settings.ui_port}/namespaces/default/workflows/"
        assert f'href="{ui}task-queue%2F{queue.name}"' in page

        task = html.unescape((await http.get(f"/queues/{queue.name}/tasks/{failing.task_id}")).text)
        assert '"n": 7' in task and "the disk is on fire" in task and ">failed</dd>" in task

        async def act(path: str, status: int = 200) -> str:
            answer = await http.post(f"/queues/{queue.name}/{path}")
            assert answer.status_code == status, answer.text
            return line(answer)

        assert await act(f"tasks/{later.task_id}/retry", 422) == (
            f"task {later.task_id} is pending; only failed tasks can be retried"
        )
        assert await act(f"tasks/{later.task_id}/cancel") == f"task {later.task_id} cancelled"
        assert await act("pause") == f"queue {queue.name!r} paused"
        assert (await queue.stats()).paused
        assert await act("resume") == f"queue {queue.name!r} resumed"
        assert await act("purge") == "1 failed task(s) purged"
        assert await act("retry-all") == "0 failed task(s) queued again"
        stats = await queue.stats()
        assert (stats.paused, stats.failed, stats.cancelled, stats.purged) == (False, 0, 1, 1)
        assert (await http.post(f"/queues/{queue.name}/explode")).status_code == 404
        assert (await http.get("/queues/no%20such")).status_code == 404


def test_the_temporal_ui_link_follows_the_settings(
    make_settings: Any, dev_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def link(settings: Settings) -> str | None:
        url: str | None = build_app(settings, dev_client).state.dashboard.workflow_url("a/b")
        return url

    settings = make_settings(ui_port=8999)
    assert link(settings) == "http://127.0.0.1:8999/namespaces/default/workflows/a%2Fb"
    custom = make_settings(dashboard={"temporal_ui_url": "https://temporal.example.com/"})
    assert link(custom) == "https://temporal.example.com/namespaces/default/workflows/a%2Fb"
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.example.com:7233")
    assert link(settings) is None  # a remote server's UI is not known: no link
    assert link(custom) is not None
