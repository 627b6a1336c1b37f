"""The runner's own Prometheus metrics: every name, label and meaning in one place.

They go through the SDK's meters, so the worker serves them with the SDK's ``temporal_*``
metrics (``runtime.py``): ``workflow.metric_meter()`` in workflow code, which records
nothing while a workflow is replayed (a worker catching up on a history counts nothing
twice), and ``activity.metric_meter()`` in activities. The SDK's ``metric_prefix`` and
``counters_total_suffix`` apply to its own metrics only: these names are served as
written. Both meters add ``namespace`` and ``task_queue`` labels, and ``workflow_type``
or ``activity_type``.

A gauge is the value its worker process last set: a queue's gauges are served by the
worker that runs the queue's workflow now (another worker keeps its last values).
"""

from __future__ import annotations

from collections.abc import Mapping

from temporalio import activity, workflow
from temporalio.common import MetricMeter

TASKS_TOTAL = "taskrunner_tasks_total"
"""Counter {queue, type, outcome}: each task once when it settles (completed, failed,
cancelled), and each attempt that failed and will be tried again (retried)."""
TASK_DURATION = "taskrunner_task_duration_seconds"
"""Histogram {queue, type}: how long each attempt's activity ran, on its worker."""
QUEUE_TASKS = "taskrunner_queue_tasks"
"""Gauge {queue, status}: tasks in the queue now, by status (``QUEUE_STATUSES``)."""
NOTIFICATIONS_TOTAL = "taskrunner_notifications_total"
"""Counter {channel, outcome}: per routed channel, sent, failed or suppressed."""
HEALTH_PROBE_UP = "taskrunner_health_probe_up"
"""Gauge {probe}: 1 when the service probe's last check found it up, else 0."""
HEALTH_METRIC = "taskrunner_health_metric"
"""Gauge {metric}: the health monitor's last reading (cpu, memory, disk in percent;
response_time_ms)."""
MAINTENANCE_LAST_SUCCESS = "taskrunner_maintenance_last_success_timestamp_seconds"
"""Gauge {target}: when the target was last maintained in full (Unix time)."""

COMPLETED, FAILED, RETRIED, CANCELLED = "completed", "failed", "retried", "cancelled"
"""``outcome`` of taskrunner_tasks_total."""
QUEUE_STATUSES = ("pending", "scheduled", "running", "failed")
"""``status`` of taskrunner_queue_tasks: due and waiting for a slot; waiting for its
``run_at`` or a retry backoff; running; failed for good (until retried or purged)."""
SENT, SUPPRESSED = "sent", "suppressed"
"""``outcome`` of taskrunner_notifications_total (with ``failed``)."""

DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600)
"""Seconds: from quick tasks to the hour a long one may run."""
BUCKETS = {TASK_DURATION: DURATION_BUCKETS}
"""Histogram buckets the Prometheus exporter uses instead of its millisecond defaults."""


def activity_meter() -> MetricMeter:
    """The current activity's meter; a no-op one outside an activity (a direct call)."""
    try:
        return activity.metric_meter() if activity.in_activity() else MetricMeter.noop
    except RuntimeError:  # a sync activity in another process has no meter
        return MetricMeter.noop


def count_task(meter: MetricMeter, queue: str, task_type: str, outcome: str) -> None:
    meter.create_counter(TASKS_TOTAL, "Tasks settled, and failed attempts retried").add(
        1, {"queue": queue, "type": task_type, "outcome": outcome}
    )


def observe_attempt(meter: MetricMeter, queue: str, task_type: str, seconds: float) -> None:
    histogram = meter.create_histogram_float(TASK_DURATION, "Task attempt run time", "s")
    histogram.record(seconds, {"queue": queue, "type": task_type})


def count_notification(meter: MetricMeter, channel: str, outcome: str) -> None:
    counter = meter.create_counter(NOTIFICATIONS_TOTAL, "Notifications per channel")
    counter.add(1, {"channel": channel, "outcome": outcome})


def set_probe_up(meter: MetricMeter, probe: str, up: bool) -> None:
    meter.create_gauge(HEALTH_PROBE_UP, "Service probe is up").set(int(up), {"probe": probe})


def set_health_metric(meter: MetricMeter, metric: str, value: float) -> None:
    gauge = meter.create_gauge_float(HEALTH_METRIC, "Health monitor's last reading")
    gauge.set(value, {"metric": metric})


def mark_maintained(target: str) -> None:
    """Workflow code: ``target`` was just maintained in full."""
    gauge = workflow.metric_meter().create_gauge_float(
        MAINTENANCE_LAST_SUCCESS, "Last full maintenance of the target", "s"
    )
    gauge.set(workflow.now().timestamp(), {"target": target})


class QueueMetrics:
    """One queue workflow's metrics (workflow code: nothing is recorded during a replay)."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self._meter: MetricMeter | None = None
        self._shown: tuple[int, ...] | None = None
        """The state key the gauges were last set for (None: not set by this run)."""

    @property
    def meter(self) -> MetricMeter:
        if self._meter is None:
            self._meter = workflow.metric_meter()
        return self._meter

    def count(self, task_type: str, outcome: str) -> None:
        count_task(self.meter, self.queue, task_type, outcome)

    def stale(self, key: tuple[int, ...]) -> bool:
        """True when the gauges were set for another state (never while replaying: a
        replay sets nothing, and the first live activation after it sets them)."""
        return key != self._shown and not workflow.unsafe.is_replaying()

    def show(self, key: tuple[int, ...], counts: Mapping[str, int]) -> None:
        gauge = self.meter.create_gauge(QUEUE_TASKS, "Tasks in the queue by status")
        for status in QUEUE_STATUSES:
            gauge.set(counts.get(status, 0), {"queue": self.queue, "status": status})
        self._shown = key
