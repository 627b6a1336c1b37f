"""Continue-as-new: thousands of tasks pass through several runs, none lost or run twice."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from taskrunner.queue.models import (
    TaskSpec,
    TaskStatus,
)
from taskrunner.worker import WORKFLOWS
from tests.helpers.queue import assert_accounted, running_queue

TASKS = 2000
FLAKY_EVERY = 50
DOOMED_EVERY = 100


def _spec(i: int) -> TaskSpec:
    kind = "doomed" if i % DOOMED_EVERY == 7 else "flaky" if i % FLAKY_EVERY == 3 else "noop"
    return TaskSpec(type=kind, payload={"n": i}, key=f"job-{i}", priority=i % 3)


async def test_tasks_survive_continue_as_new_exactly_once(
    dev_client: Client, make_settings: Any
) -> None:
    # The dev server: a busy queue on the time-skipping server can leave a query
    # unanswered, which locks that server's clock for every later test.
    client = dev_client
    settings = make_settings(
        queue={"max_concurrency": 20, "history_threshold": 400, "batch_size": 250}
    )
    async with running_queue(client, settings) as h:
        specs = [_spec(i) for i in range(TASKS)]
        ids = (await h.queue.enqueue_batch(specs)).task_ids
        assert len(set(ids)) == TASKS
        drained = await h.queue.drain(max_outcomes=TASKS, through_retries=True)
        stats = await h.queue.stats()

        doomed = {ids[i] for i in range(TASKS) if specs[i].type == "doomed"}
        flaky = {ids[i] for i in range(TASKS) if specs[i].type == "flaky"}
        # The drain spans runs: each task it waited for is reported once.
        assert drained.done
        reported = [o.task_id for o in drained.outcomes]
        assert len(reported) == len(set(reported)) == drained.completed + drained.failed > 0
        assert stats.run_number > 2, "the queue should have continued as new several times"
        assert stats.completed == TASKS - len(doomed) and stats.failed == len(doomed)
        assert stats.pending == stats.running == 0
        assert_accounted(stats)

        # Each task ran exactly as often as its type demands, and finished once.
        for task_id in ids:
            runs = h.ledger.executions[task_id]
            if task_id in doomed:
                assert runs == 3, task_id
            else:
                assert runs == (2 if task_id in flaky else 1), task_id
                assert h.ledger.completions[task_id] == 1, task_id
        assert {t.id for t in await h.queue.list(TaskStatus.FAILED, limit=TASKS)} == doomed
        # Completed tasks are kept as a bounded recent list; counters count them all.
        assert len(await h.queue.list(TaskStatus.COMPLETED, limit=TASKS)) == 100

        # Idempotency keys of finished tasks outlive the runs they finished in.
        again = await h.queue.enqueue_batch([_spec(i) for i in range(0, TASKS, 97)])
        assert again.created == 0
        assert again.task_ids == [ids[i] for i in range(0, TASKS, 97)]

        description = await h.queue.handle.describe()
        assert description.raw_description.workflow_execution_info.history_length < 1000

        # Workers can replay both the first run and the latest one deterministically.
        first_run = client.get_workflow_handle(
            h.queue.workflow_id,
            run_id=description.raw_description.workflow_execution_info.first_run_id,
        )
        replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter)
        for handle in (first_run, h.queue.handle):
            await replayer.replay_workflow(await handle.fetch_history())
