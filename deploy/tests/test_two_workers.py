"""Beyond one machine: the worker image, two worker containers on one task queue, one
SIGKILLed mid-way. Every task completes exactly once in the queue's accounting, both
workers did work, and only the killed worker's in-flight tasks ran twice.

Run by ``make deploy-test`` (``.ci/run`` calls it), not by ``make test``: the image build
takes minutes the first time. Skips, saying why, only where no Docker engine can start.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import docker
import psycopg
import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from deploy.image import Built, build
from taskrunner.devserver import DevServer
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec
from taskrunner.settings import load_settings
from tests.helpers import assert_eventually, free_port
from tests.helpers.docker_engine import DockerEngine, EngineUnavailable, connect_engine
from tests.helpers.prometheus import scrape, value

TASKS = 1000
CONCURRENCY = 20
"""Tasks the queue runs at once, over both workers."""
SLEEP_MS = 40
PG = "postgresql://postgres@127.0.0.1:5432/test"
TASKS_DIR = Path(__file__).resolve().parent.parent / "tasks"
LABEL = "taskrunner.deploy-test"
DOCKER_TIMEOUT = 600


@pytest.fixture(scope="module")
def engine() -> Iterator[DockerEngine]:
    try:
        engine = connect_engine()
    except EngineUnavailable as err:
        pytest.skip(f"no Docker engine could be started here: {err}")
    # vfs copies a whole image per container: creating one takes longer than a ping.
    engine.client.close()
    engine.client = docker.DockerClient(base_url=engine.host, timeout=DOCKER_TIMEOUT)
    try:
        yield engine
    finally:
        for container in engine.client.containers.list(all=True, filters={"label": LABEL}):
            container.remove(force=True, v=True)
        engine.close()


@pytest.fixture(scope="module")
def image(engine: DockerEngine) -> Built:
    built = build(engine.client, engine.host)
    print(
        f"\nimage {built.tag} on {built.base}: {built.size_bytes / 1e6:.0f} MB, "
        f"built in {built.seconds:.0f} s"
    )
    return built


@pytest.fixture
def ledger() -> Iterator[str]:
    table = f"deploy_ledger_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as db:
        db.execute(f"CREATE TABLE {table} (task_id text, worker text, attempt int)")
    try:
        yield table
    finally:
        with psycopg.connect(PG, autocommit=True) as db:
            db.execute(f"DROP TABLE IF EXISTS {table}")


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[DevServer]:
    dev = DevServer(data_dir=tmp_path / "server", port=free_port(), ui_port=None)
    await dev.start_async()
    try:
        yield dev
    finally:
        await asyncio.to_thread(dev.stop)


def start_worker(
    engine: DockerEngine, image: Built, name: str, metrics: str, env: dict[str, str]
) -> Any:
    return engine.client.containers.run(
        image.tag,
        name=f"ttr-deploy-{name}-{uuid.uuid4().hex[:6]}",
        detach=True,
        network_mode="host",
        labels={LABEL: "1"},
        read_only=True,
        tmpfs={"/tmp": ""},
        cap_drop=["ALL"],
        security_opt=["no-new-privileges:true"],
        volumes={str(TASKS_DIR): {"bind": "/tasks", "mode": "ro"}},
        # The image's own HEALTHCHECK command, asked every 2 s instead of every 30 s.
        healthcheck={"interval": 2_000_000_000, "timeout": 20_000_000_000, "retries": 3},
        environment={
            **env,
            "TASKRUNNER_WORKER__IDENTITY": name,
            # Host network: both containers share this machine's ports, so each worker
            # serves its metrics on its own (as two workers on one host must).
            "TASKRUNNER_METRICS__ADDRESS": metrics,
            "LEDGER_WORKER": name,
        },
    )


async def pollers(client: Client, task_queue: str) -> set[str]:
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=client.namespace,
            task_queue=TaskQueue(name=task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        )
    )
    return {poller.identity for poller in described.pollers}


def runs(table: str) -> list[tuple[str, str]]:
    with psycopg.connect(PG) as db:
        return [(row[0], row[1]) for row in db.execute(f"SELECT task_id, worker FROM {table}")]


@pytest.mark.timeout(1500)
async def test_two_worker_containers_share_the_work_and_losing_one_loses_nothing(
    engine: DockerEngine, image: Built, server: DevServer, ledger: str
) -> None:
    task_queue = f"deploy-{uuid.uuid4().hex[:8]}"
    env = {
        "TEMPORAL_ADDRESS": server.address,
        "TASKRUNNER_TASK_QUEUE": task_queue,
        "TASKRUNNER_TASK_MODULES": '["deploy_ledger"]',
        "TASKRUNNER_TASK_PATH": '["/tasks"]',
        "LEDGER_DSN": PG,
        "LEDGER_TABLE": ledger,
    }
    metrics = {name: f"127.0.0.1:{free_port()}" for name in ("worker-a", "worker-b")}
    doomed = start_worker(engine, image, "worker-a", metrics["worker-a"], env)
    survivor = start_worker(engine, image, "worker-b", metrics["worker-b"], env)
    client = await Client.connect(server.address, data_converter=pydantic_data_converter)

    async def both_poll() -> None:
        assert {"worker-a", "worker-b"} <= await pollers(client, task_queue), (
            doomed.logs(tail=5),
            survivor.logs(tail=5),
        )

    await assert_eventually(both_poll, timeout=120)

    async def both_healthy() -> None:
        for container in (doomed, survivor):
            container.reload()
            health = container.attrs["State"].get("Health", {})
            assert health.get("Status") == "healthy", health

    await assert_eventually(both_healthy, timeout=120)
    settings = load_settings(task_queue=task_queue, queue={"max_concurrency": CONCURRENCY})
    queue = QueueClient(client, settings, task_queue)
    started = time.monotonic()
    specs = [
        TaskSpec(type="ledgered", payload={"n": n, "sleep_ms": SLEEP_MS}) for n in range(TASKS)
    ]
    ids: list[str] = []
    for chunk in range(0, TASKS, 200):
        ids += (await queue.enqueue_batch(specs[chunk : chunk + 200])).task_ids
    assert len(set(ids)) == TASKS

    async def a_third_ran() -> None:
        assert len(runs(ledger)) >= TASKS // 3

    await assert_eventually(a_third_ran, timeout=300)
    before_kill = Counter(worker for _, worker in runs(ledger))
    doomed.kill(signal="SIGKILL")
    await queue.drain(through_retries=True)
    elapsed = time.monotonic() - started

    stats = await queue.stats()
    assert stats.completed == TASKS and stats.failed == 0, stats
    executed = runs(ledger)
    per_task = Counter(task for task, _ in executed)
    assert set(per_task) == set(ids)
    reruns = sum(count - 1 for count in per_task.values())
    per_worker = Counter(worker for _, worker in executed)
    print(
        f"\n{TASKS} tasks in {elapsed:.1f} s; by worker {dict(per_worker)} "
        f"(worker-a had run {before_kill['worker-a']} when SIGKILLed); re-runs {reruns}"
    )
    assert before_kill["worker-a"] > 0 and before_kill["worker-b"] > 0  # both took work
    assert reruns <= CONCURRENCY  # at most what was in flight on the killed worker
    assert all(count <= 2 for count in per_task.values())
    # Each worker's Prometheus endpoint is its own: the survivor's counts its attempts.
    samples = await scrape(f"http://{metrics['worker-b']}/metrics")
    attempts = value(samples, "taskrunner_task_duration_seconds_count", type="ledgered")
    assert attempts == per_worker["worker-b"], (attempts, per_worker)
