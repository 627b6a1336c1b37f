"""A known runner state on the dev server, for ``taskrunner status`` to find exactly.

One queue with a completed, a failed and a pending task (the queue paused), the declared
schedules applied under a test-private id prefix (crons that do not fire during a test),
one health monitor run triggered through its schedule, one maintenance run, and one open
alert in the alert state file.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from temporalio.client import Client

from taskrunner.maintenance.models import maintenance_input, maintenance_workflow_id
from taskrunner.maintenance.workflow import MaintenanceWorkflow
from taskrunner.notifications.alert_state import AlertState
from taskrunner.notifications.models import Priority
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec
from taskrunner.schedules import operations as schedule_ops
from taskrunner.settings import Settings
from tests.helpers import assert_eventually
from tests.helpers.databases import bloated_sqlite
from tests.helpers.readings import SetReadings
from tests.helpers.schedules import delete_schedules

NEVER_DURING_A_TEST = ["0 3 1 1 *"]
"""A cron that does not fire while a test runs: only the triggered run is the last one."""
ALERT = ("status-test", "disk", "disk almost full")
"""The open alert written: source, alert, message."""
EMAIL = {"recipient": "ops@example.com", "subject": "status"}


def status_settings(make_settings: Any) -> Settings:
    """Settings private to one test: queue name, schedule ids, worker identity."""
    tag = uuid.uuid4().hex[:8]
    never = {"cron": NEVER_DURING_A_TEST}
    return make_settings(
        timezone="Europe/Berlin",
        queue={"name": f"status-{tag}"},
        worker={"identity": f"status-worker-{tag}"},
        schedules={
            "id_prefix": f"st{tag}-",
            "health_monitor": never,
            "task_processor": never,
            "maintenance": never,
        },
    )


def status_env(settings: Settings, address: str) -> dict[str, str]:
    """The environment that gives the CLI these settings, against the server at ``address``."""
    return {
        "TEMPORAL_ADDRESS": address,
        "TASKRUNNER_DATA_DIR": str(settings.data_dir),
        "TASKRUNNER_TIMEZONE": settings.timezone,
        "TASKRUNNER_TASK_QUEUE": settings.task_queue,
        "TASKRUNNER_QUEUE__NAME": settings.queue.name,
        "TASKRUNNER_SCHEDULES__ID_PREFIX": settings.schedules.id_prefix,
        "TASKRUNNER_SCHEDULES__HEALTH_MONITOR__CRON": '["0 3 1 1 *"]',
        "TASKRUNNER_SCHEDULES__TASK_PROCESSOR__CRON": '["0 3 1 1 *"]',
        "TASKRUNNER_SCHEDULES__MAINTENANCE__CRON": '["0 3 1 1 *"]',
    }


@dataclass
class Known:
    settings: Settings
    health_id: str
    """The health monitor run the schedule started."""
    maintenance_id: str
    task_ids: dict[str, str]
    """completed, failed and pending: the task of each."""


@contextlib.asynccontextmanager
async def known_state(client: Client, settings: Settings, make_worker: Any) -> AsyncIterator[Known]:
    """Build the state with the runner's worker (calm health readings), which keeps
    serving the task queue inside the block; schedules and queue are removed after it."""
    bloated_sqlite(settings.sqlite_path(settings.database), rows=20, kept=5)
    queue = QueueClient(client, settings)
    try:
        async with make_worker(client, settings, system_reader=SetReadings()):
            ids = await _tasks(queue, settings)
            await schedule_ops.apply_schedules(client, settings)
            await schedule_ops.trigger(client, settings, "health-monitor")
            health_id = await assert_eventually(lambda: _health_ran(client, settings), 60, 0.3)
            maintenance_id = maintenance_workflow_id(f"status-{uuid.uuid4().hex[:8]}")
            await client.execute_workflow(
                MaintenanceWorkflow.run,
                maintenance_input(settings, force=True),
                id=maintenance_id,
                task_queue=settings.task_queue,
            )
            source, alert, message = ALERT
            state = AlertState(settings.notifications.state_file(settings.data_dir))
            state.mark_alerting(source, alert, Priority.CRITICAL, message, time.time())
            await listed_as_completed(client, [health_id, maintenance_id])
            yield Known(settings, health_id, maintenance_id, ids)
    finally:
        await delete_schedules(client, settings.schedules.id_prefix)
        with contextlib.suppress(Exception):
            await queue.handle.terminate("test over")


async def _health_ran(client: Client, settings: Settings) -> str:
    """The id of the health monitor run the trigger started, once it completed (on a
    loaded machine the server may start it later than ``trigger`` watches for)."""
    view = await schedule_ops.view(client, settings, "health-monitor")
    assert view.last_result == "completed" and view.last_workflow_id, view
    return view.last_workflow_id


async def listed_as_completed(client: Client, workflow_ids: list[str]) -> None:
    """Wait until visibility (which lags a moment behind a run's end) lists the runs as
    completed: status finds the last runs through it."""
    ids = ", ".join(f"'{i}'" for i in workflow_ids)
    query = f"WorkflowId IN ({ids}) AND ExecutionStatus = 'Completed'"

    async def listed() -> None:
        found = [w.id async for w in client.list_workflows(query)]
        assert sorted(found) == sorted(workflow_ids), found

    await assert_eventually(listed, timeout=30, interval=0.2)


async def _tasks(queue: QueueClient, settings: Settings) -> dict[str, str]:
    """A completed email, a failed dataSync (its file is not there), then, with the
    queue paused, a pending email."""
    done = await queue.enqueue(TaskSpec(type="email", payload=EMAIL))
    missing = str(settings.imports_dir / "missing.json")
    failed = await queue.enqueue(
        TaskSpec(type="dataSync", payload={"source": missing, "destination": "nowhere"})
    )
    await queue.drain()
    stats = await queue.stats()
    assert (stats.completed, stats.failed) == (1, 1), stats
    await queue.pause()
    pending = await queue.enqueue(TaskSpec(type="email", payload=EMAIL))
    return {"completed": done.task_id, "failed": failed.task_id, "pending": pending.task_id}
