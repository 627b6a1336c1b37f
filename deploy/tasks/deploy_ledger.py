"""The deployment test's task type, loaded by each worker container (``task_modules``).

An attempt on a killed worker is retried once its 15 s timeout passes. Each attempt
records itself in a PostgreSQL table as it starts (an attempt cut short by
a SIGKILL counts too) with the container that ran it, then sleeps: the test counts how
often each task really ran, and where.
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

import psycopg
from pydantic import Field

from taskrunner import TaskContext, TaskPayload, TaskResult, task_type

DSN = os.environ.get("LEDGER_DSN", "postgresql://postgres@127.0.0.1:5432/test")
TABLE = os.environ.get("LEDGER_TABLE", "deploy_ledger")
WORKER = os.environ.get("LEDGER_WORKER", "unnamed")


class LedgeredPayload(TaskPayload):
    n: int = Field(default=0, ge=0)
    sleep_ms: int = Field(default=50, ge=0, le=5000)


@task_type("ledgered", payload=LedgeredPayload, timeout=timedelta(seconds=15))
async def ledgered(payload: LedgeredPayload, ctx: TaskContext) -> TaskResult:
    async with await psycopg.AsyncConnection.connect(DSN, autocommit=True) as db:
        await db.execute(
            f"INSERT INTO {TABLE} (task_id, worker, attempt) VALUES (%s, %s, %s)",
            (ctx.task_id, WORKER, ctx.attempt),
        )
    await asyncio.sleep(payload.sleep_ms / 1000)
    return TaskResult(summary=f"task {payload.n} ran on {WORKER}")
