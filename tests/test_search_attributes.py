"""The runner's search attributes: set where the namespace has them, never blocking a run.

On the session dev server (which registers them, as the embedded server does) a queue
is found by ``TaskrunnerQueue`` and finished runs by ``TaskrunnerOutcome``. On a server
without them, runs go on untagged: a workflow task setting an unknown attribute would
fail for ever.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError

from taskrunner.devserver import DevServer
from taskrunner.observability.search_attributes import OUTCOME, QUEUE, TASK_TYPES, TYPES, register
from taskrunner.queue.models import TaskSpec
from tests.helpers import assert_eventually, free_port
from tests.helpers.queue import running_queue
from tests.helpers.readings import SetReadings, start_health

pytestmark = pytest.mark.devserver


@workflow.defn(sandboxed=False)
class EndsAsToldWorkflow:
    """Fails when asked to, else waits until it is cancelled."""

    @workflow.run
    async def run(self, fail: bool) -> None:
        if fail:
            raise ApplicationError("asked to fail", non_retryable=True)
        await workflow.wait_condition(lambda: False)


async def listed(client: Client, query: str) -> list[str]:
    """Ids of the workflows the visibility query finds, once it finds any."""

    async def found() -> list[str]:
        ids = [w.id async for w in client.list_workflows(query)]
        assert ids, f"nothing matches {query!r} yet"
        return ids

    return await assert_eventually(found)


async def test_a_queue_is_found_by_its_name_and_task_types_in_every_run(
    dev_client: Client, make_settings: Any
) -> None:
    settings = make_settings(queue={"history_threshold": 100})  # continues as new soon
    async with running_queue(dev_client, settings) as harness:
        queue = harness.queue
        await queue.enqueue_batch([TaskSpec(type="noop", payload={"n": i}) for i in range(30)])
        await queue.drain()
        await queue.enqueue(TaskSpec(type="flaky"))
        await queue.drain()
        runs = (await queue.stats()).run_number
        assert runs > 1, "the queue never continued as new"

        async def every_run() -> None:
            query = f"TaskrunnerQueue = '{queue.name}'"
            ids = [w.id async for w in dev_client.list_workflows(query)]
            assert ids == [queue.workflow_id] * runs, ids
            query += " AND TaskrunnerTaskTypes = 'flaky' AND ExecutionStatus = 'Running'"
            assert [w.id async for w in dev_client.list_workflows(query)] == [queue.workflow_id]

        await assert_eventually(every_run)
        described = await queue.handle.describe()
        assert described.typed_search_attributes.get(TASK_TYPES) == ["flaky", "noop"]
        # A new run inherits the attributes: it sets them again only when they change.
        events = (await queue.handle.fetch_history()).events
        ours = [
            e
            for e in events
            if "Taskrunner" in str(e.upsert_workflow_search_attributes_event_attributes)
        ]
        assert len(ours) <= 1 and "TaskrunnerQueue" not in str(ours), ours


async def test_a_finished_run_carries_how_it_ended(
    dev_client: Client, make_settings: Any, make_worker: Any
) -> None:
    settings = make_settings()
    readings = SetReadings()
    readings.set(disk=99.0)
    async with make_worker(
        dev_client, settings, system_reader=readings, extra_workflows=[EndsAsToldWorkflow]
    ):
        health = await start_health(dev_client, settings)
        assert not (await health.result()).healthy
        failing = await start_told(dev_client, settings, fail=True)
        with pytest.raises(WorkflowFailureError):
            await failing.result()
        waiting = await start_told(dev_client, settings, fail=False)
        await waiting.cancel()
        with pytest.raises(WorkflowFailureError):
            await waiting.result()
    for handle, outcome in ((health, "unhealthy"), (failing, "failed"), (waiting, "cancelled")):
        query = f"WorkflowId = '{handle.id}' AND TaskrunnerOutcome = '{outcome}'"
        assert await listed(dev_client, query) == [handle.id]


async def start_told(client: Client, settings: Any, fail: bool) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        EndsAsToldWorkflow.run, fail, id=f"told-{uuid.uuid4()}", task_queue=settings.task_queue
    )


class BareDevServer(DevServer):
    """A dev server whose namespace has none of the runner's search attributes."""

    def command(self) -> list[str]:
        cmd, kept = super().command(), []
        while cmd:
            arg = cmd.pop(0)
            if arg == "--search-attribute":
                cmd.pop(0)
            else:
                kept.append(arg)
        return kept


@pytest.fixture(scope="module")
def bare_server() -> Iterator[DevServer]:
    server = BareDevServer(data_dir=None, port=free_port(), ui_port=None).start()
    yield server
    server.stop()


async def test_without_the_attributes_runs_go_on_untagged_until_they_are_registered(
    bare_server: DevServer, settings: Any, make_worker: Any
) -> None:
    client = await Client.connect(bare_server.address, data_converter=pydantic_data_converter)
    async with running_queue(client, settings) as harness:
        queue = harness.queue
        await queue.enqueue(TaskSpec(type="noop"))
        await queue.drain()  # the queue runs: no workflow task failed on an attribute
        assert (await queue.stats()).completed == 1
        health = await start_health(client, settings)
        assert (await health.result()).checked_at
        for handle in (queue.handle, health):
            attributes = (await handle.describe()).typed_search_attributes
            assert [attributes.get(k) for k in (QUEUE, TASK_TYPES, OUTCOME)] == [None] * 3

    assert await register(client) == sorted(TYPES)  # what `taskrunner run` does on its own
    listing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    assert set(TYPES) <= set(listing.custom_attributes)
    assert await register(client) == []
