"""Custom search attributes: find the runner's workflows by queue, task type and outcome.

- ``TaskrunnerQueue`` (Keyword): a queue workflow's queue name.
- ``TaskrunnerTaskTypes`` (KeywordList): the task types that queue has held.
- ``TaskrunnerOutcome`` (Keyword): how a finished run ended (see :func:`outcome_of`).

A server fails every workflow task that sets an attribute its namespace does not have
(``BadSearchAttributes``), so a workflow that did would be stuck for good. Workflow code
therefore sets only the attributes the namespace has: it asks the local activity below
(its answer is recorded in history, so a replay decides the same), behind a patch so
that histories from before this code replay unchanged. The embedded dev server
registers them (``taskrunner run`` adds them to an older data dir too); on another
cluster an operator registers them, or runs stay untagged.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributeUpdate
from temporalio.exceptions import ActivityError
from temporalio.service import RPCError

logger = logging.getLogger(__name__)

QUEUE = SearchAttributeKey.for_keyword("TaskrunnerQueue")
TASK_TYPES = SearchAttributeKey.for_keyword_list("TaskrunnerTaskTypes")
OUTCOME = SearchAttributeKey.for_keyword("TaskrunnerOutcome")
TYPES = {
    QUEUE.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    TASK_TYPES.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
    OUTCOME.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
}
"""Every attribute the runner sets, with its type."""
PATCH = "taskrunner-search-attributes"
"""The patch id guarding the attribute code in workflows."""
RECHECK_SECONDS = 60.0
"""How long a worker trusts "not registered" before it asks the server again."""
ASK_TIMEOUT = timedelta(seconds=10)


def dev_server_flags() -> list[str]:
    """``temporal server start-dev`` arguments registering every attribute."""
    flags = []
    for name, kind in TYPES.items():
        type_name = IndexedValueType.Name(kind).removeprefix("INDEXED_VALUE_TYPE_")
        flags += ["--search-attribute", f"{name}={type_name.title().replace('_', '')}"]
    return flags


async def register(client: Client) -> list[str]:
    """Add the attributes the namespace lacks (the runner's own embedded server only);
    a server that refuses is logged, and runs stay untagged."""
    try:
        missing = sorted(set(TYPES) - await _registered(client))
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(
                    namespace=client.namespace, search_attributes={n: TYPES[n] for n in missing}
                )
            )
    except RPCError as err:
        logger.warning("Could not register the search attributes %s: %s", sorted(TYPES), err)
        return []
    return missing


async def _registered(client: Client) -> set[str]:
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    return set(TYPES) & set(listed.custom_attributes)


class SearchAttributeActivities:
    """Which of the runner's attributes the worker's namespace has (cached per worker)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self._known: set[str] = set()
        self._asked_at = -RECHECK_SECONDS

    @activity.defn(name="registered_search_attributes")
    async def registered_search_attributes(self) -> list[str]:
        """Run as a local activity: never fails (a server that cannot say has none)."""
        if self._known != set(TYPES) and time.monotonic() - self._asked_at >= RECHECK_SECONDS:
            self._asked_at = time.monotonic()
            try:
                self._known = await _registered(self.client)
            except RPCError as err:  # e.g. the time-skipping test server: no operator API
                activity.logger.debug("search attributes unknown: %s", err)
        return sorted(self._known)


async def usable() -> set[str]:
    """Workflow code: the attributes this run may set (none in a history from before)."""
    if not workflow.patched(PATCH):
        return set()
    try:
        names = await workflow.execute_local_activity_method(
            SearchAttributeActivities.registered_search_attributes,
            start_to_close_timeout=ASK_TIMEOUT,
            retry_policy=RetryPolicy(maximum_attempts=2),
        )
    except ActivityError:
        return set()
    return set(names)


def upsert(allowed: set[str], *updates: SearchAttributeUpdate[Any]) -> None:
    """Workflow code: set those of ``updates`` whose attribute is in ``allowed``."""
    kept = [u for u in updates if u.key.name in allowed]
    if kept:
        workflow.upsert_search_attributes(kept)


def outcome_of(result: Any) -> str:
    """How a finished run ended, from its report: ``completed``, ``partial`` (some part
    failed), ``skipped`` (maintenance outside its window), ``unhealthy``, or the task
    status of a job's fire; ``failed`` and ``cancelled`` are given by the caller."""
    status = getattr(result, "status", None)
    if isinstance(status, str):  # a maintenance report; a job fire's task
        return status
    if getattr(result, "healthy", True) is False or getattr(result, "all_up", True) is False:
        return "unhealthy"
    failed_tasks = getattr(getattr(result, "result", None), "failed", 0)  # a drain report
    if getattr(result, "ok", True) is False or (isinstance(failed_tasks, int) and failed_tasks):
        return "partial"
    return "completed"


class QueueTags:
    """A queue workflow's attributes: its name, and the task types it has held."""

    def __init__(self) -> None:
        self.allowed: set[str] = set()

    async def start(self, queue: str, task_types: list[str]) -> None:
        """Once per run: learn what may be set, then set what changed."""
        self.allowed = await usable()
        if workflow.info().typed_search_attributes.get(QUEUE) != queue:
            upsert(self.allowed, QUEUE.value_set(queue))
        self.update(task_types)

    def update(self, task_types: list[str]) -> None:
        """Set ``TaskrunnerTaskTypes`` when the queue has held a new type."""
        if TASK_TYPES.name not in self.allowed:
            return
        if workflow.info().typed_search_attributes.get(TASK_TYPES) != task_types:
            upsert(self.allowed, TASK_TYPES.value_set(task_types))
