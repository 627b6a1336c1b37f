"""The ``[worker]`` settings: validation, what ``build_worker`` hands the SDK, and
Worker Deployment versioning on the dev server (a version takes work once current)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType, TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import Worker, WorkerDeploymentConfig

from taskrunner.devserver import DevServer, find_binary
from taskrunner.errors import ConfigError
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec
from taskrunner.settings import Settings, load_settings
from taskrunner.settings.worker import DEFAULT_GRACEFUL_SHUTDOWN_SECONDS
from taskrunner.tasks.builtin import BUILTIN_TASK_TYPES
from taskrunner.worker import build_worker
from tests.helpers import assert_eventually
from tests.helpers.queue import Ledger, end_queue

UNSUPPORTED = ("unimplemented", "unknown method", "disabled")
"""What a server without Worker Deployments answers set-current-version (lower case)."""

# -- settings --------------------------------------------------------------------------


def test_worker_settings_default_to_what_the_sdk_does_without_them() -> None:
    worker = load_settings().worker
    assert worker.identity is None
    assert worker.graceful_shutdown_seconds == DEFAULT_GRACEFUL_SHUTDOWN_SECONDS == 20
    assert worker.max_concurrent_activities is None
    assert worker.max_concurrent_workflow_tasks is None
    assert worker.max_concurrent_local_activities is None
    assert worker.deployment_name is None and worker.build_id is None
    assert worker.versioning_behavior == "auto_upgrade"


def test_worker_settings_come_from_nested_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKRUNNER_WORKER__IDENTITY", "worker-a")
    monkeypatch.setenv("TASKRUNNER_WORKER__MAX_CONCURRENT_ACTIVITIES", "8")
    monkeypatch.setenv("TASKRUNNER_WORKER__DEPLOYMENT_NAME", "taskrunner")
    monkeypatch.setenv("TASKRUNNER_WORKER__BUILD_ID", "abc123")
    worker = load_settings().worker
    assert (worker.identity, worker.max_concurrent_activities) == ("worker-a", 8)
    assert (worker.deployment_name, worker.build_id) == ("taskrunner", "abc123")


@pytest.mark.parametrize("given", [{"deployment_name": "taskrunner"}, {"build_id": "v1"}])
def test_a_deployment_name_or_build_id_alone_is_refused_in_one_line(given: dict) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(worker=given)
    line = str(err.value)
    assert "\n" not in line
    assert "deployment_name and build_id turn on worker versioning together" in line
    assert "TASKRUNNER_WORKER__BUILD_ID" in line


@pytest.mark.parametrize(
    ("given", "variable"),
    [
        ({"identity": ""}, "TASKRUNNER_WORKER__IDENTITY"),
        ({"graceful_shutdown_seconds": -1}, "TASKRUNNER_WORKER__GRACEFUL_SHUTDOWN_SECONDS"),
        ({"max_concurrent_activities": 0}, "TASKRUNNER_WORKER__MAX_CONCURRENT_ACTIVITIES"),
        ({"max_concurrent_workflow_tasks": 1}, "TASKRUNNER_WORKER__MAX_CONCURRENT_WORKFLOW_TASKS"),
        (
            {"max_concurrent_local_activities": 0},
            "TASKRUNNER_WORKER__MAX_CONCURRENT_LOCAL_ACTIVITIES",
        ),
        ({"versioning_behavior": "sometimes"}, "TASKRUNNER_WORKER__VERSIONING_BEHAVIOR"),
        ({"deployment_name": "a.b", "build_id": "v1"}, "contains a '.'"),
        ({"identiy": "x"}, "did you mean identity?"),
    ],
)
def test_a_bad_worker_setting_is_one_line_naming_it(given: dict, variable: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(worker=given)
    assert "\n" not in str(err.value)
    assert variable in str(err.value)


# -- what build_worker hands the SDK (a Worker is built inside an event loop) ---------


async def test_build_worker_passes_identity_limits_and_shutdown(
    dev_client: Client, make_settings: Any
) -> None:
    worker = make_settings(
        worker={
            "identity": "worker-a",
            "graceful_shutdown_seconds": 5,
            "max_concurrent_activities": 7,
            "max_concurrent_workflow_tasks": 6,
            "max_concurrent_local_activities": 3,
        }
    )
    config = build_worker(dev_client, worker).config()
    assert config.get("identity") == "worker-a"
    assert config.get("graceful_shutdown_timeout") == timedelta(seconds=5)
    assert config.get("max_concurrent_activities") == 7
    assert config.get("max_concurrent_workflow_tasks") == 6
    assert config.get("max_concurrent_local_activities") == 3
    assert config.get("deployment_config") is None


async def test_build_worker_leaves_the_sdk_defaults_when_nothing_is_set(
    dev_client: Client, settings: Settings
) -> None:
    config = build_worker(dev_client, settings).config()
    assert config.get("identity") is None
    assert config.get("graceful_shutdown_timeout") == timedelta(seconds=20)
    assert config.get("max_concurrent_activities") is None
    assert config.get("max_concurrent_workflow_tasks") is None
    assert config.get("max_concurrent_local_activities") is None


@pytest.mark.parametrize(
    ("behavior", "expected"),
    [("auto_upgrade", VersioningBehavior.AUTO_UPGRADE), ("pinned", VersioningBehavior.PINNED)],
)
async def test_a_deployment_and_build_id_turn_on_worker_versioning(
    dev_client: Client, make_settings: Any, behavior: str, expected: VersioningBehavior
) -> None:
    versioned = make_settings(
        worker={"deployment_name": "ttr", "build_id": "v7", "versioning_behavior": behavior}
    )
    config = build_worker(dev_client, versioned).config()
    assert config.get("deployment_config") == WorkerDeploymentConfig(
        version=WorkerDeploymentVersion("ttr", "v7"),
        use_worker_versioning=True,
        default_versioning_behavior=expected,
    )


async def test_the_worker_polls_under_its_configured_identity(
    dev_client: Client, make_settings: Any
) -> None:
    identity = f"worker-a-{uuid.uuid4().hex[:8]}"
    settings = make_settings(worker={"identity": identity})
    request = DescribeTaskQueueRequest(
        namespace=dev_client.namespace,
        task_queue=TaskQueue(name=settings.task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )

    async def polled() -> None:
        described = await dev_client.workflow_service.describe_task_queue(request)
        assert [p.identity for p in described.pollers] == [identity]

    async with build_worker(dev_client, settings):
        await assert_eventually(polled, timeout=30)


# -- versioning on the dev server ------------------------------------------------------


def versioned(make_settings: Any, deployment: str, build_id: str) -> Settings:
    """Settings of one version's worker (every call shares the test's task queue)."""
    worker = {"deployment_name": deployment, "build_id": build_id, "identity": build_id}
    return make_settings(worker=worker)


def running(client: Client, settings: Settings, ledger: Ledger) -> Worker:
    return build_worker(
        client, settings, task_types=BUILTIN_TASK_TYPES.including(*ledger.task_types())
    )


async def set_current(server: DevServer, deployment: str, build_id: str) -> None:
    """The operator's command, retried until the version's worker has polled (before, the
    server knows no such deployment: "does your Worker Deployment have pollers?")."""
    command = [str(find_binary("temporal")), "worker", "deployment", "set-current-version"]
    command += ["--deployment-name", deployment, "--build-id", build_id]
    command += ["--address", server.address, "--yes"]

    async def attempt() -> None:
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        out, err = await process.communicate()
        said = (out + err).decode(errors="replace").strip()
        if process.returncode and any(word in said.lower() for word in UNSUPPORTED):
            pytest.skip(f"this dev server has no Worker Deployments: {said[:300]}")
        assert process.returncode == 0, said

    await assert_eventually(attempt, timeout=30, interval=0.5)


async def versioning_of(queue: QueueClient) -> tuple[int, str]:
    info = (await queue.handle.describe()).raw_description.workflow_execution_info
    return info.versioning_info.behavior, info.versioning_info.deployment_version.build_id


@contextlib.asynccontextmanager
async def queue_ended(queue: QueueClient) -> AsyncIterator[QueueClient]:
    try:
        yield queue
    finally:
        await end_queue(queue)


async def test_a_versioned_worker_takes_work_only_once_its_version_is_current(
    dev_server: DevServer, dev_client: Client, make_settings: Any
) -> None:
    deployment = f"ttr-test-{uuid.uuid4().hex[:10]}"
    settings = versioned(make_settings, deployment, "v1")
    ledger = Ledger()
    queue = QueueClient(dev_client, settings, f"test-{uuid.uuid4().hex[:10]}")
    async with running(dev_client, settings, ledger), queue_ended(queue):
        enqueue = asyncio.create_task(queue.enqueue(TaskSpec(type="noop")))

        async def started_but_not_dispatched() -> None:
            assert await queue.exists()
            events = [e.event_type for e in (await queue.handle.fetch_history()).events]
            assert events == [
                EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
                EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
            ]

        # The queue workflow exists, but no worker gets its first task: no version is
        # current, and a versioned worker takes only its version's tasks.
        await assert_eventually(started_but_not_dispatched, timeout=15)
        await asyncio.sleep(3)
        await started_but_not_dispatched()
        assert not enqueue.done() and not ledger.executions

        await set_current(dev_server, deployment, "v1")
        task = await asyncio.wait_for(enqueue, timeout=30)
        await queue.drain()
        assert ledger.completions[task.task_id] == 1
        assert await versioning_of(queue) == (VersioningBehavior.AUTO_UPGRADE, "v1")


async def test_a_rolling_upgrade_moves_the_running_queue_to_the_new_version(
    dev_server: DevServer, dev_client: Client, make_settings: Any
) -> None:
    deployment = f"ttr-test-{uuid.uuid4().hex[:10]}"
    old = versioned(make_settings, deployment, "v1")
    new = versioned(make_settings, deployment, "v2")
    old_ledger, new_ledger = Ledger(), Ledger()
    queue = QueueClient(dev_client, old, f"test-{uuid.uuid4().hex[:10]}")
    async with contextlib.AsyncExitStack() as workers:
        v1 = await workers.enter_async_context(running(dev_client, old, old_ledger))
        await set_current(dev_server, deployment, "v1")
        # Ended while a worker still runs (the stack stops the workers after it).
        async with queue_ended(queue):
            first = await queue.enqueue(TaskSpec(type="noop"))
            await queue.drain()
            assert old_ledger.completions[first.task_id] == 1
            run_id = (await queue.handle.describe()).run_id

            # The new image's workers start beside the old ones; the new version is made
            # current, and the old workers are stopped (their graceful shutdown).
            await workers.enter_async_context(running(dev_client, new, new_ledger))
            await set_current(dev_server, deployment, "v2")
            await v1.shutdown()

            specs = [TaskSpec(type="noop", payload={"n": n}) for n in range(3)]
            tasks = [await queue.enqueue(spec) for spec in specs]
            await queue.drain()
            assert all(new_ledger.completions[t.task_id] == 1 for t in tasks)
            assert not any(old_ledger.executions[t.task_id] for t in tasks)
            # The same run moved on (auto-upgrade) with its state: nothing restarted.
            assert await versioning_of(queue) == (VersioningBehavior.AUTO_UPGRADE, "v2")
            assert (await queue.handle.describe()).run_id == run_id
            assert (await queue.stats()).completed == 4
