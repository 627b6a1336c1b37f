"""A queue worker and client on a bench server, with the no-op task type registered."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bench.harness import Server
from bench.noop_task import NOOP_TYPE, noop_types
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec
from taskrunner.settings import (
    Settings,
    load_settings,
)
from taskrunner.worker import build_worker


def specs(count: int, task_type: str = NOOP_TYPE) -> list[TaskSpec]:
    return [TaskSpec(type=task_type, payload={"index": i}) for i in range(count)]


@contextlib.asynccontextmanager
async def queue_worker(
    server: Server,
    extra_activities: Sequence[Any] = (),
    extra_workflows: Sequence[type] = (),
    overrides: Mapping[str, Any] | None = None,
    **queue: Any,
) -> AsyncIterator[Settings]:
    """The runner's real worker on a fresh task queue; ``queue`` overrides queue settings,
    ``overrides`` other sections (e.g. ``{"smtp": {...}}``)."""
    with tempfile.TemporaryDirectory(prefix="taskrunner-bench-data-") as tmp:
        settings = load_settings(
            data_dir=Path(tmp), task_queue=server.task_queue(), queue=queue, **(overrides or {})
        )
        async with build_worker(
            server.client,
            settings,
            task_types=noop_types(),
            extra_activities=extra_activities,
            extra_workflows=extra_workflows,
        ):
            yield settings


def queue_client(server: Server, settings: Settings, name: str) -> QueueClient:
    return QueueClient(server.client, settings, name)
