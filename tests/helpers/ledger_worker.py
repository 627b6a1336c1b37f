"""A real worker in its own OS process, for crash tests: ``python -m tests.helpers.ledger_worker``.

Arguments: Temporal address, task queue, data dir, ledger SQLite file, and optionally
a JSON file of health readings (``FileReadings``) to use instead of this machine's. It runs
``build_worker`` plus the ``ledgered`` task type (and ``ledgered_fast``, the same on the
fast path), whose activity records
the execution with an ``INSERT`` and then sleeps ``sleep_ms`` (so a test can count
how often each task really ran, even across a SIGKILL of this process).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.contrib.pydantic import pydantic_data_converter

from taskrunner.settings import load_settings
from taskrunner.tasks.builtin import BUILTIN_TASK_TYPES
from taskrunner.tasks.registry import (
    TaskActivityInput,
    TaskResult,
    TaskType,
)


class LedgeredPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = Field(default=0, ge=0)
    sleep_ms: int = Field(default=50, ge=0, le=5000)


def open_ledger(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS executions (task_id TEXT NOT NULL, pid INTEGER)")
    return db


def executions(path: Path) -> list[str]:
    """Every recorded execution's task id (a task run twice appears twice)."""
    if not path.exists():
        return []
    db = open_ledger(path)
    try:
        return [row[0] for row in db.execute("SELECT task_id FROM executions")]
    finally:
        db.close()


class LedgerActivities:
    def __init__(self, path: Path) -> None:
        self.db = open_ledger(path)

    @activity.defn(name="test_ledgered")
    async def ledgered(self, params: TaskActivityInput) -> TaskResult:
        # Recorded when it starts: an execution cut short by a SIGKILL counts too.
        self.db.execute(
            "INSERT INTO executions (task_id, pid) VALUES (?, ?)", (params.task_id, os.getpid())
        )
        await asyncio.sleep(params.payload.get("sleep_ms", 50) / 1000)
        return TaskResult(summary=f"ran {params.task_id}")


async def main(
    address: str, task_queue: str, data_dir: str, ledger: str, readings: str | None = None
) -> None:
    from taskrunner.worker import build_worker
    from tests.helpers.readings import FileReadings

    settings = load_settings(data_dir=Path(data_dir), task_queue=task_queue)
    client = await Client.connect(address, data_converter=pydantic_data_converter)
    acts = LedgerActivities(Path(ledger))
    ledgered = TaskType(
        "ledgered",
        LedgeredPayload,
        lambda _: acts.ledgered,
        # Short: a task lost with a killed worker is retried after this.
        timedelta(seconds=5),
        retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=50), maximum_attempts=5),
    )
    # The same task on the fast path: up to 20 tasks a call.
    fast = replace(ledgered, name="ledgered_fast", bundle=20)
    reader = FileReadings(Path(readings)) if readings else None
    task_types = BUILTIN_TASK_TYPES.including(ledgered, fast)
    async with build_worker(client, settings, task_types=task_types, system_reader=reader):
        sys.stdout.write("worker ready\n")
        sys.stdout.flush()
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
