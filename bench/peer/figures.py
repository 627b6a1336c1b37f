"""The peer figures: Celery + Redis and the runner side by side, with their ratio.

Each run measures both sides one after the other (Celery's worker is stopped
before the runner's starts, so neither idles beside the other), and the ratio is
taken run by run. Celery's no-op run uses a prefork pool of one process per core
and the runner's queue C=50, as the issue fixes them; the email run is at 10 on
both sides.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import Figure, dev_server
from bench.noop_task import FAST_BUNDLE, NOOP_TYPE
from bench.peer.celery_side import celery_emails_per_second, celery_noop_per_second
from bench.peer.queue_side import queue_emails, queue_noop
from bench.peer.worker import unavailable
from bench.peer.worker_processes import QUEUES, processes_per_second

MODE = "peer"
"""The table's mode column for these figures (the runner's side is on SERVER_MODE)."""
SERVER_MODE = "sqlite"
"""The runner's dev server for the peer runs: persistent, like `make run`."""
NOOP_CONCURRENCY = 50
"""The runner's queue max_concurrency for no-op tasks (figure 2's highest C)."""
EMAIL_CONCURRENCY = 10
"""Both sides' concurrency for the email runs (Celery: prefork -c 10)."""

Report = Callable[[Figure], None]


@dataclass
class Pair:
    """One workload's Celery figure, the runner's figure and their ratio."""

    celery: Figure
    ours: Figure
    ratio: Figure
    reason: str | None = None
    """Why the Celery side is not measured (None: it is)."""

    def figures(self) -> list[Figure]:
        if self.reason is None:
            self.ratio.samples = [
                o / c for o, c in zip(self.ours.samples, self.celery.samples, strict=False)
            ]
        else:
            self.celery.note = self.ratio.note = f"n/a: {self.reason}"
            self.celery.samples = self.ratio.samples = []
        return [self.celery, self.ours, self.ratio]


def _pair(workload: str, unit: str, celery_note: str, ours_note: str) -> Pair:
    name = f"peer: {workload}"
    return Pair(
        Figure(f"{name}, Celery+Redis", unit, MODE, note=celery_note),
        Figure(f"{name}, taskrunner", unit, MODE, note=ours_note),
        Figure(f"{name}, ratio taskrunner/Celery", "ratio", MODE, note="run by run"),
    )


async def _celery(pair: Pair, measure: Callable[[int, int, Path], float], *args: Any) -> None:
    """One Celery sample (measured in a thread: Celery's client blocks); any failure
    makes the Celery figure n/a with its reason."""
    if pair.reason is not None:
        return
    try:
        pair.celery.samples.append(await asyncio.to_thread(measure, *args))
    except Exception as err:
        pair.reason = f"{type(err).__name__}: {err}".splitlines()[0]


def _celery_version() -> str:
    from celery import __version__

    return str(__version__)


async def measure_peer(runs: int, tasks: int, emails: int, report: Report) -> list[Figure]:
    """The peer figures: ``tasks`` no-op tasks, then ``emails`` emails, ``runs`` times."""
    cores = os.cpu_count() or 1
    reason = unavailable()
    celery = "Celery" if reason else f"Celery {_celery_version()}"
    ends = "from first enqueue to last result"
    noop = _pair(
        "no-op tasks end to end",
        "tasks/s",
        f"{celery}, prefork -c {cores}, acks_late; {tasks} tasks, {ends}",
        f"{SERVER_MODE} server, fast path, C={NOOP_CONCURRENCY}; {tasks} tasks, {ends}",
    )
    noop.reason = reason
    events = Figure(
        "peer: no-op events per task, taskrunner",
        "events",
        MODE,
        note=f"fast path ({FAST_BUNDLE} tasks a call): queue histories / tasks",
    )
    remote = Figure(
        "peer: no-op tasks end to end, taskrunner remote path",
        "tasks/s",
        MODE,
        note=f"one activity task per attempt, C={NOOP_CONCURRENCY}; {tasks} tasks, {ends}",
    )
    remote_events = Figure(
        "peer: no-op events per task, taskrunner remote path",
        "events",
        MODE,
        note="queue histories / tasks",
    )
    mail = _pair(
        "one email per task (SMTP)",
        "emails/s",
        f"{celery}, prefork -c {EMAIL_CONCURRENCY}, smtplib; {emails} emails, {ends}",
        f"{SERVER_MODE} server, C={EMAIL_CONCURRENCY}, email task; {emails} emails, {ends}",
    )
    processes = {
        count: Figure(
            f"peer: no-op over {QUEUES} queues, {count} worker process(es)",
            "tasks/s",
            MODE,
            note=f"taskrunner worker --processes {count}, fast path, C={NOOP_CONCURRENCY} "
            f"each; {tasks} tasks, {ends}",
        )
        for count in (1, 2)
    }
    no_sink = None
    if importlib.util.find_spec("aiosmtpd") is None:
        no_sink = (
            "aiosmtpd is not installed (make bench installs it: pip install -e '.[dev,bench]')"
        )
    mail.reason = reason or no_sink
    with tempfile.TemporaryDirectory(prefix="taskrunner-bench-peer-") as tmp:
        logs = Path(tmp)
        async with dev_server(SERVER_MODE) as server:
            for _ in range(runs):
                await _celery(noop, celery_noop_per_second, tasks, cores, logs)
                run = await queue_noop(server, tasks, NOOP_CONCURRENCY)
                noop.ours.samples.append(run.per_second)
                events.samples.append(run.events_per_task)
                run = await queue_noop(server, tasks, NOOP_CONCURRENCY, NOOP_TYPE)
                remote.samples.append(run.per_second)
                remote_events.samples.append(run.events_per_task)
                if emails and no_sink is None:
                    c = EMAIL_CONCURRENCY
                    await _celery(mail, celery_emails_per_second, emails, c, logs)
                    sent = await queue_emails(server, emails, c, logs)
                    mail.ours.samples.append(sent.per_second)
                for count, figure in processes.items():
                    rate = await processes_per_second(server, count, tasks, NOOP_CONCURRENCY)
                    figure.samples.append(rate)
    if no_sink is not None:
        mail.ours.note = f"n/a: {no_sink}"
    figures = [
        *noop.figures(),
        events,
        remote,
        remote_events,
        *(mail.figures() if emails else []),
        *processes.values(),
    ]
    for figure in figures:
        report(figure)
    return figures
