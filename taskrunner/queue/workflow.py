"""TaskQueueWorkflow: one durable queue per workflow.

Producers enqueue with validated updates (enqueue.py); the run loop starts due
tasks up to ``max_concurrency`` at once, each as the activity captured for it at
enqueue; commands (commands.py) and queries work on the state while it runs. When
history grows long the queue stops starting tasks, waits for short attempts (long
ones detach and report to the next run, see attempts.py) and continues as new with
its state.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from taskrunner.errors import rejected
    from taskrunner.events import attempts as attempt_count
    from taskrunner.notifications.models import Priority
    from taskrunner.notifications.notify import notify
    from taskrunner.observability.metrics import QueueMetrics
    from taskrunner.observability.search_attributes import QueueTags
    from taskrunner.queue.attempts import (
        CLOCK_MARGIN,
        LOST_ATTEMPT,
        AttemptFailure,
        AttemptReport,
    )
    from taskrunner.queue.budget import CONTINUE_AS_NEW_LIMIT
    from taskrunner.queue.bundles import TOPPED_UP, Bundles, Call, run_bundle
    from taskrunner.queue.enqueue import QueueEnqueue
    from taskrunner.queue.models import (
        QueueInput,
        TaskRecord,
        TaskStatus,
        queue_workflow_id,
    )
    from taskrunner.queue.queries import gauge_key, status_counts
    from taskrunner.queue.retries import Outcome, Settled, about, detach_at, run_attempt, settle
    from taskrunner.queue.state import QueueState
    from taskrunner.queue.worker_context import TaskTypeResolver


LOST = AttemptFailure(
    message="no outcome within the attempt's start-to-close timeout (its worker was lost?)",
    type=LOST_ATTEMPT,
)


@workflow.defn
class TaskQueueWorkflow(QueueEnqueue):
    @workflow.init
    def __init__(self, params: QueueInput) -> None:
        self._config = params.config
        self._run_number = params.run_number
        self._state = (
            QueueState.from_snapshot(params.config, params.snapshot)
            if params.snapshot
            else QueueState(params.config)
        )
        self._task_types = TaskTypeResolver()
        self._source = queue_workflow_id(params.config.name)
        self._metrics = QueueMetrics(params.config.name)
        self._tags = QueueTags()
        self._attempts: dict[str, datetime] = {}
        """Attempts this run started and still waits for: task id -> when it may detach."""
        self._notifying = 0
        """Failure notifications in flight."""
        self._calls: list[Call] = []
        """Bundled calls in flight (the fast path): a continue-as-new waits for them."""
        self._top_up = False
        """Whether calls are topped up with tasks that wait for a slot (bundles.py)."""
        self._timer_at: datetime | None = None
        self._children: set[asyncio.Task[None]] = set()
        """Task runs and timers in flight (a reference keeps them from being collected)."""

    @workflow.run
    async def run(self, params: QueueInput) -> None:
        # Asked first, in the run's first workflow task: a run from before topped-up calls
        # has no marker there and keeps its calls as they were for the rest of the run.
        self._top_up = workflow.patched(TOPPED_UP)
        self._spawn(self._show_gauges())
        try:
            await self._tags.start(self._config.name, sorted(self._state.counts))
            await self._process()
        except asyncio.CancelledError:
            # Cancelling the run (the web UI's button) would drop every task and key.
            # Instead the queue pauses and carries its state into the next run.
            self._state.paused = True
            workflow.logger.warning(
                "Queue %s was asked to cancel: it is paused and keeps its %d unfinished "
                "task(s); `taskrunner queue resume` starts it again",
                self._config.name,
                len(self._state.tasks),
            )
        await self._continue_as_new()

    async def _process(self) -> None:
        self._arm_timer()  # for delayed tasks carried over from the previous run
        while not self._continue_as_new_due():
            self._arm_timer()
            await workflow.wait_condition(self._work_or_stop)
            await self._start_due_tasks()
            self._tags.update(sorted(self._state.counts))

    async def _continue_as_new(self) -> None:
        """Nothing new starts; short attempts finish, long ones detach (attempts.py),
        handlers return, then the state moves on to the next run."""
        while not self._may_continue():
            # Woken when an attempt ends, or (one timer) when the youngest may detach.
            with contextlib.suppress(asyncio.TimeoutError):
                await workflow.wait_condition(self._may_continue, timeout=self._until_detached())
        await workflow.wait_condition(workflow.all_handlers_finished)
        snapshot = self._state.to_snapshot(limit=CONTINUE_AS_NEW_LIMIT)
        if self._state.shed:
            workflow.logger.warning(
                "Queue %s forgot %s to continue as new within %d bytes",
                self._config.name,
                ", ".join(self._state.shed),
                CONTINUE_AS_NEW_LIMIT,
            )
        workflow.continue_as_new(
            QueueInput(config=self._config, snapshot=snapshot, run_number=self._run_number + 1)
        )

    def _may_continue(self) -> bool:
        """No failure notification is in flight, and every attempt this run waits for may
        detach (the worker's clock may lag the server's by up to CLOCK_MARGIN)."""
        now = workflow.now()
        return (
            not self._notifying
            and not self._calls
            and all(at + CLOCK_MARGIN <= now for at in self._attempts.values())
        )

    def _until_detached(self) -> timedelta | None:
        """How long until the youngest attempt may detach (None: none is waited for)."""
        latest = max(self._attempts.values(), default=None)
        if latest is None:
            return None
        left = latest + CLOCK_MARGIN - workflow.now()
        return left if left > timedelta(0) else None

    # -- the processing loop ---------------------------------------------------

    def _continue_as_new_due(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._config.history_threshold
        )

    def _can_start(self) -> bool:
        # Tasks waiting inside a call for one of its slots are running but hold no slot.
        waiting = sum(call.waiting for call in self._calls)
        return (
            not self._state.paused
            and self._state.running - waiting < self._config.max_concurrency
            and self._state.has_ready(workflow.now())
        )

    def _work_or_stop(self) -> bool:
        return self._continue_as_new_due() or self._can_start()

    def _arm_timer(self) -> None:
        """One durable timer for the earliest delayed task (never one per loop turn)."""
        wake = self._state.next_wake()
        if wake is None or (self._timer_at is not None and self._timer_at <= wake):
            return
        self._timer_at = wake
        self._spawn(self._sleep_until(wake))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        child = asyncio.create_task(coroutine)
        self._children.add(child)
        child.add_done_callback(self._children.discard)

    async def _sleep_until(self, at: datetime) -> None:
        await workflow.sleep(max(at - workflow.now(), timedelta(milliseconds=1)))
        for record in self._state.order.expired(workflow.now()):
            workflow.logger.warning(
                "Task %s: no outcome of attempt %d",
                record.id,
                record.attempts,
                extra=about(self._state, record),
            )
            self._settle(record, LOST)
        if self._timer_at == at:
            self._timer_at = None
            self._arm_timer()  # for the next delayed task, if any

    async def _start_due_tasks(self) -> None:
        interval = timedelta(milliseconds=self._config.start_interval_ms)
        bundles = Bundles(self._state, single=bool(interval))
        while self._can_start() and not self._continue_as_new_due():
            record = self._state.start_next(workflow.now())
            if record is None:
                break
            if bundles.bundled(record):
                if full := bundles.add(record):
                    self._start_call(full)
            else:
                self._attempts[record.id] = detach_at(record)
                self._spawn(self._run_task(record))
            if interval:
                await workflow.sleep(interval)  # a durable timer between two starts
        if self._top_up and not (self._state.paused or self._continue_as_new_due()):
            bundles.top_up(workflow.now())
        for rest in bundles.rest():
            self._start_call(rest)

    async def _run_task(self, record: TaskRecord) -> None:
        attempts = record.attempts
        try:
            outcome = await run_attempt(self._state, record)
        finally:
            self._attempts.pop(record.id, None)
        if record.status == TaskStatus.RUNNING and record.attempts == attempts:
            self._settle(record, outcome)

    def _start_call(self, call: Call) -> None:
        # Listed now, before the next look at the slots: the call holds only its width.
        self._calls.append(call)
        self._spawn(self._run_bundle(call))

    async def _run_bundle(self, call: Call) -> None:
        records = call.records
        attempts = [record.attempts for record in records]
        try:
            outcomes = await run_bundle(self._state, call)
        finally:
            self._calls.remove(call)
        for record, attempt, outcome in zip(records, attempts, outcomes, strict=True):
            if record.status == TaskStatus.RUNNING and record.attempts == attempt:
                self._settle(record, outcome)

    def _settle(self, record: TaskRecord, outcome: Outcome) -> None:
        settled = settle(self._state, record, outcome, workflow.now())
        self._metrics.count(record.type, settled.outcome)
        if settled == Settled.RETRYING:
            self._arm_timer()  # it retries after a backoff: wake up for it
        elif settled == Settled.FAILED:
            self._notifying += 1
            self._spawn(self._notify_failed(record))

    async def _notify_failed(self, record: TaskRecord) -> None:
        try:
            await notify(
                f"Task {record.id} failed after {attempt_count(record.round_attempts)}: "
                f"{record.last_error}",
                Priority.ERROR,
                self._source,
                task_id=record.id,
                task_type=record.type,
            )
        finally:
            self._notifying -= 1

    async def _show_gauges(self) -> None:
        """Keep taskrunner_queue_tasks current: set again whenever the state moved."""
        while True:
            await workflow.wait_condition(lambda: self._metrics.stale(gauge_key(self._state)))
            self._metrics.show(gauge_key(self._state), status_counts(self._state))

    @workflow.update
    def report_attempt(self, report: AttemptReport) -> None:
        """The outcome of an attempt an earlier run started (sent by its worker)."""
        record = self._state.tasks[report.task_id]
        self._settle(record, report.result or report.failure or LOST)

    @report_attempt.validator
    def _check_report(self, report: AttemptReport) -> None:
        record = self._state.tasks.get(report.task_id)
        if (
            record is None
            or record.status != TaskStatus.RUNNING
            or record.attempts != report.attempt
        ):
            raise rejected(f"task {report.task_id} is not running attempt {report.attempt}")
