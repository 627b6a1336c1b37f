"""Which measurements make up `make bench`, grouped by server mode."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.enqueue import batch_enqueues_per_second, single_enqueues_per_second
from bench.harness import Figure, Server
from bench.latency import idle_latencies_ms
from bench.limit import bare_activities_per_second
from bench.long_run import long_run
from bench.test_suite import last_test_suite_run
from bench.throughput import queue_tasks_per_second, sharded_tasks_per_second

DEFAULT_CONCURRENCY = 10
"""The queue's default max_concurrency (settings.queue.max_concurrency)."""
CONCURRENCIES = (DEFAULT_CONCURRENCY, 50)
SHARDS = (1, 2, 4)


@dataclass
class Sizes:
    runs: int
    tasks: int
    """Tasks per throughput run (figures 1, 2 and 6)."""
    single_enqueues: int
    batch_enqueues: int
    latency_tasks: int
    long_tasks: int
    """Tasks of the long run (figure 5); 0 skips it."""
    long_mode: str
    emails: int
    """Emails per peer email run (bench/peer); the peer no-op runs use ``tasks``."""


FULL = Sizes(3, 1000, 500, 5000, 40, 20_000, "sqlite", 500)
QUICK = Sizes(1, 300, 200, 2000, 15, 2_000, "sqlite", 100)

Report = Callable[[Figure], None]


async def measure(server: Server, sizes: Sizes, report: Report) -> list[Figure]:
    """Every figure of one server mode, printed through ``report`` as it is known."""
    figures: list[Figure] = []

    def add(figure: Figure) -> Figure:
        figures.append(figure)
        report(figure)
        return figure

    mode = server.mode
    limits: dict[int, Figure] = {}
    for c in CONCURRENCIES:
        limit = Figure(f"1 limit: bare workflow, no-op activities, C={c}", "act/s", mode)
        queue = Figure(f"2 queue: batch then processed, C={c}", "tasks/s", mode)
        for _ in range(sizes.runs):
            limit.samples.append(await bare_activities_per_second(server, sizes.tasks, c))
            queue.samples.append(await queue_tasks_per_second(server, sizes.tasks, c))
        limits[c] = add(limit)
        add(queue)
        ratio = Figure(f"2 queue / limit, C={c}", "ratio", mode)
        ratio.samples = [q / b for q, b in zip(queue.samples, limit.samples, strict=True)]
        add(ratio)

    single = Figure("3 enqueue: single updates, 50 producers", "tasks/s", mode)
    batch = Figure("3 enqueue: batch", "tasks/s", mode)
    latency = {
        key: Figure(f"4 idle latency: enqueue to {what}", "ms", mode)
        for key, what in [
            ("start_p50", "start p50"),
            ("start_p99", "start p99"),
            ("done_p50", "completed p50"),
            ("done_p99", "completed p99"),
        ]
    }
    for _ in range(sizes.runs):
        single.samples.append(await single_enqueues_per_second(server, sizes.single_enqueues))
        batch.samples.append(await batch_enqueues_per_second(server, sizes.batch_enqueues))
        for key, value in (await idle_latencies_ms(server, sizes.latency_tasks)).items():
            latency[key].samples.append(value)
    add(single)
    add(batch)
    for figure in latency.values():
        add(figure)

    for shards in SHARDS:
        sharded = Figure(
            f"6 sharded: {shards} queue(s), C={DEFAULT_CONCURRENCY} each", "tasks/s", mode
        )
        for _ in range(sizes.runs):
            sharded.samples.append(
                await sharded_tasks_per_second(server, sizes.tasks, DEFAULT_CONCURRENCY, shards)
            )
        add(sharded)

    if sizes.long_tasks and mode == sizes.long_mode:
        run = await long_run(server, sizes.long_tasks, DEFAULT_CONCURRENCY)
        name = f"5 long run: {sizes.long_tasks} tasks, C={DEFAULT_CONCURRENCY}"
        note = "one run; RSS of this process (worker + client, in-process)"
        for label, unit, value in [
            ("throughput", "tasks/s", run.tasks_per_second),
            ("continue-as-new", "count", run.continue_as_new),
            ("max history of a run", "events", run.max_history_events),
            ("largest continue-as-new input", "bytes", run.max_snapshot_bytes),
            ("worker peak RSS", "MB", run.peak_rss_mb),
        ]:
            add(Figure(f"{name}, {label}", unit, mode, [float(value)], note))
        # The bare workflow cannot run 20,000 activities in one history (50,000 events
        # at most): its baseline is the limit at the same C over `tasks` activities.
        baseline = limits[DEFAULT_CONCURRENCY].median
        add(
            Figure(
                f"{name}, throughput / limit (figure 1, {sizes.tasks} activities)",
                "ratio",
                mode,
                [run.tasks_per_second / baseline],
            )
        )
    return figures


def test_suite_figure() -> Figure:
    """Figure 7 from what tests/run.py recorded last (`make bench` never runs the suite)."""
    figure = Figure("7 test suite: make test wall time", "s", "-")
    last = last_test_suite_run()
    if last is None:
        figure.note = "not measured yet (run make test)"
        return figure
    figure.samples = [float(last["wall_seconds"])]
    args = f", args {' '.join(last['args'])}" if last.get("args") else ""
    figure.note = f"exit {last['exit_status']}, {last['finished_at']}{args}"
    return figure
