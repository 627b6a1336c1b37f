"""How QueueClient talks to a queue workflow: update slots, busy backoff, one-line errors."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from taskrunner.errors import UserError
from taskrunner.queue.requests import failure_text

T = TypeVar("T")

BUSY_RETRIES = 12
"""Tries of one call while the server reports too many in-flight updates."""
BUSY_BACKOFF = (0.05, 2.0)
"""First and longest wait between those tries, in seconds."""
UPDATE_SLOTS = 8
"""Updates one process keeps in flight per queue workflow (every queue update is short).

The dev server refuses an 11th in-flight update per workflow (RESOURCE_EXHAUSTED);
queueing excess calls here, below that limit, is far faster than many producers
backing off and retrying. Other processes' updates can still hit the limit: the
backoff remains.
"""
_SLOTS: weakref.WeakKeyDictionary[Client, dict[str, asyncio.Semaphore]] = (
    weakref.WeakKeyDictionary()
)


def update_slot(client: Client, workflow_id: str) -> asyncio.Semaphore:
    """This process's share of a queue's in-flight updates (see UPDATE_SLOTS)."""
    slots = _SLOTS.setdefault(client, {})
    if workflow_id not in slots:
        slots[workflow_id] = asyncio.Semaphore(UPDATE_SLOTS)
    return slots[workflow_id]


def closed_text(name: str) -> str:
    return (
        f"queue {name!r} was stopped (terminated); `taskrunner queue recover --queue "
        f"{name}` starts it again with its tasks and keys"
    )


async def _missing(name: str, handle: WorkflowHandle[Any, Any]) -> str:
    try:
        await handle.describe()
    except RPCError:
        return f"queue {name!r} does not exist yet; enqueue a task to create it"
    return closed_text(name)  # it exists, but its last run is closed


async def call_queue(
    name: str, handle: WorkflowHandle[Any, Any], call: Callable[[], Awaitable[T]]
) -> T:
    """Run ``call``; back off while the server is busy; turn refusals into one line."""
    delay = BUSY_BACKOFF[0]
    for attempt in range(BUSY_RETRIES):
        try:
            return await call()
        except WorkflowUpdateFailedError as err:
            raise UserError(failure_text(err.cause)) from None
        except WorkflowQueryFailedError as err:
            raise UserError(f"queue {name!r}: {err}") from None
        except WorkflowAlreadyStartedError:
            raise UserError(closed_text(name)) from None
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise UserError(await _missing(name, handle)) from None
            if err.status == RPCStatusCode.ALREADY_EXISTS:  # update-with-start, id not reusable
                raise UserError(closed_text(name)) from None
            if err.status != RPCStatusCode.RESOURCE_EXHAUSTED or attempt == BUSY_RETRIES - 1:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, BUSY_BACKOFF[1])
    raise AssertionError("unreachable")
