"""Replaying histories counts nothing: the workflow meter records only live executions.

The SDK wraps ``workflow.metric_meter()`` so that it drops every recording while the
workflow is replaying (temporalio.worker._workflow_instance._ReplaySafeMetricMeter):
a worker that rebuilds a run from its history (after a restart, or an evicted cache)
counts no task twice. Here real runs' histories are replayed through the very runtime
that served their metrics, and the runner's metrics must not move.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from taskrunner.devserver import DevServer
from taskrunner.maintenance.models import maintenance_input
from taskrunner.maintenance.workflow import MaintenanceWorkflow
from taskrunner.observability.metrics import TASKS_TOTAL
from taskrunner.observability.runtime import worker_runtime
from taskrunner.queue.models import TaskSpec
from taskrunner.run_log import RunLogInterceptor
from taskrunner.settings.observability import MetricsSettings
from taskrunner.worker import WORKFLOWS, workflow_runner
from tests.helpers import assert_eventually, free_port
from tests.helpers.databases import bloated_sqlite
from tests.helpers.prometheus import scrape, value
from tests.helpers.queue import running_queue
from tests.helpers.readings import SetReadings, start_health

pytestmark = pytest.mark.devserver

TASKS = 30
"""Enough for a queue that continues as new at 100 history events to take several runs."""


async def test_replaying_recorded_runs_moves_no_metric(
    dev_server: DevServer, make_settings: Any, make_worker: Any
) -> None:
    address = f"127.0.0.1:{free_port()}"
    runtime = worker_runtime(MetricsSettings(address=address))
    url = f"http://{address}/metrics"
    client = await Client.connect(
        dev_server.address, data_converter=pydantic_data_converter, runtime=runtime
    )
    settings = make_settings(queue={"history_threshold": 100})
    bloated_sqlite(settings.sqlite_path(settings.database))
    readings = SetReadings()
    readings.set(memory=99.0)  # unhealthy: the monitor notifies
    workflow_ids = []
    async with running_queue(client, settings) as harness:
        queue = harness.queue
        workflow_ids.append(queue.workflow_id)
        specs = [TaskSpec(type="noop", payload={"n": i}) for i in range(TASKS)]
        await queue.enqueue_batch([*specs, TaskSpec(type="doomed")])
        later = TaskSpec(type="noop", run_at=datetime.now(UTC) + timedelta(hours=1))
        await queue.cancel((await queue.enqueue(later)).task_id)

        async def settled() -> None:
            stats = await queue.stats()
            assert (stats.completed, stats.failed, stats.cancelled) == (TASKS, 1, 1), stats

        await assert_eventually(settled)
        assert (await queue.stats()).run_number > 1, "the queue never continued as new"
    async with make_worker(client, settings, system_reader=readings):
        health = await start_health(client, settings)
        assert not (await health.result()).healthy
        maintenance = await client.start_workflow(
            MaintenanceWorkflow.run,
            maintenance_input(settings, force=True),
            id=f"maintenance-{uuid.uuid4()}",
            task_queue=settings.task_queue,
        )
        assert (await maintenance.result()).status == "completed"
    workflow_ids += [health.id, maintenance.id]

    before = await scrape(url)
    assert value(before, TASKS_TOTAL, queue=queue.name, outcome="completed") == TASKS
    histories = await recorded(client, workflow_ids)
    assert len(histories) > 3, "expected several queue runs and the two others"
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
        interceptors=[RunLogInterceptor()],
        runtime=runtime,
    )
    for history in histories:
        await replayer.replay_workflow(history)  # raises on any non-determinism
    after = await scrape(url)

    assert runner_samples(after) == runner_samples(before)


async def recorded(client: Client, workflow_ids: list[str]) -> list[WorkflowHistory]:
    """Every run's history of these workflows (a queue that continued as new has several)."""
    query = " OR ".join(f"WorkflowId = '{w}'" for w in workflow_ids)

    async def listed() -> list[WorkflowHistory]:
        found = [h async for h in client.list_workflows(query).map_histories()]
        assert len({h.workflow_id for h in found}) == len(workflow_ids), "visibility lags"
        return found

    return await assert_eventually(listed)


def runner_samples(samples: list[tuple[str, dict[str, str], float]]) -> dict[str, float]:
    return {
        f"{name}{sorted(labels.items())}": v
        for name, labels, v in samples
        if name.startswith("taskrunner_")
    }
