"""One console line per workflow run that ended: what it was, how it ended, how long it took.

A worker interceptor, so every workflow gets it without a line of its own. It logs
through ``workflow.logger``, which is silent while a run is replayed, so a run that
ended is told once, by the worker that ended it. It also sets the run's
``TaskrunnerOutcome`` search attribute, where the namespace has it
(``taskrunner.observability.search_attributes``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import FailureError
from temporalio.worker import (
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from taskrunner.events import duration, event, first_line
from taskrunner.observability import search_attributes
from taskrunner.observability.search_attributes import OUTCOME, outcome_of

SCHEDULED_BY = SearchAttributeKey.for_keyword("TemporalScheduledById")
"""Set by Temporal on a run a schedule started: the schedule's id."""


class RunLogInterceptor(Interceptor):
    """Adds the run-ended line to every workflow of the worker."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _RunLogInbound


class _RunLogInbound(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        try:
            result = await super().execute_workflow(input)
        except workflow.ContinueAsNewError:
            raise  # not an end: the same workflow goes on in a new run
        except asyncio.CancelledError:
            _ended("cancelled")
            await _tag("cancelled")
            raise
        except FailureError as err:
            _ended(f"failed: {first_line(str(getattr(err, 'message', '') or err))}")
            await _tag("failed")
            raise
        # Anything else fails only this workflow task, which is retried: not an end.
        _ended("completed")
        await _tag(outcome_of(result))
        return result


async def _tag(outcome: str) -> None:
    search_attributes.upsert(await search_attributes.usable(), OUTCOME.value_set(outcome))


def _ended(outcome: str) -> None:
    info = workflow.info()
    took = duration(workflow.now() - info.start_time)
    schedule = info.typed_search_attributes.get(SCHEDULED_BY)
    origin = f"schedule {schedule}" if schedule else info.workflow_id
    line = f"{info.workflow_type} ({origin}) {outcome} in {took}"
    workflow.logger.info(line, extra=event(line))
