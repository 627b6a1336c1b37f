"""The README says what the code does: checks for the statements that drifted before."""

from __future__ import annotations

import re
from collections import Counter

from temporalio.api.enums.v1 import EventType

from taskrunner.errors import RETRYABLE_HTTP_STATUS
from taskrunner.observability import metrics
from taskrunner.queue.models import TaskSpec
from tests.helpers.cli import ROOT
from tests.helpers.queue import QueueHarness

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_lists_exactly_the_http_statuses_data_sync_and_channels_retry() -> None:
    listed = ", ".join(str(status) for status in sorted(RETRYABLE_HTTP_STATUS))
    assert f"HTTP {listed} (`RETRYABLE_HTTP_STATUS`" in README  # dataSync
    flat = re.sub(r"\s+", " ", README)
    assert f"an HTTP status other than {listed}, the `RETRYABLE_HTTP_STATUS`" in flat
    assert "501 Not Implemented" in README  # said to be final, as the code has it


async def test_readme_gives_the_measured_number_of_history_events_per_task(
    queue: QueueHarness,
) -> None:
    said = set(re.findall(r"every task costs about (\S+) history events", README))
    assert len(said) == 1, f"the README gives several numbers: {said}"
    tasks = 200
    await queue.queue.enqueue_batch([TaskSpec(type="noop", payload={"n": i}) for i in range(tasks)])
    await queue.queue.drain()
    events = (await queue.queue.handle.fetch_history()).events
    kinds = Counter(e.event_type for e in events)
    # Its activity's own three each, plus a share of the workflow tasks and the update.
    assert kinds[EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED] == tasks
    assert kinds[EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED] == tasks
    assert round(len(events) / tasks) == int(said.pop()), len(events) / tasks


def test_readme_repeats_no_paragraph() -> None:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", README)]
    prose = [p for p in paragraphs if len(p) > 80 and not p.startswith(("```", "|"))]
    repeated = [p[:80] for p, n in Counter(prose).items() if n > 1]
    assert not repeated, repeated


def test_readme_gives_a_query_for_every_runner_metric_and_shows_the_dashboard() -> None:
    table = README.split("One Grafana-ready query per headline metric", 1)[1].split("\n\n")[1]
    for name in (
        metrics.TASKS_TOTAL,
        metrics.TASK_DURATION,
        metrics.QUEUE_TASKS,
        metrics.NOTIFICATIONS_TOTAL,
        metrics.HEALTH_PROBE_UP,
        metrics.HEALTH_METRIC,
        metrics.MAINTENANCE_LAST_SUCCESS,
    ):
        assert name in table, f"no query for {name}"
    assert "job_name: taskrunner" in README
    for picture in re.findall(r"\(docs/([\w-]+\.png)\)", README):
        assert (ROOT / "docs" / picture).stat().st_size > 10_000, picture
    assert "](docs/dashboard-overview.png)" in README
