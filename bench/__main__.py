"""`make bench`: measure, print one table, write bench/results/latest.json."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from bench.figures import FULL, QUICK, measure, test_suite_figure
from bench.harness import Figure, dev_server
from bench.peer.figures import measure_peer
from taskrunner.settings import load_settings
from taskrunner.worker import use_task_threads

RESULTS = Path(__file__).parent / "results" / "latest.json"


def progress(figure: Figure) -> None:
    print(
        f"  {figure.mode:<7} {figure.name:<58} {_value(figure.median):>10} {figure.unit}",
        flush=True,
    )


async def run(args: argparse.Namespace) -> list[Figure]:
    # The worker process's thread pool for blocking task steps, as `taskrunner worker` has.
    use_task_threads(load_settings().worker)
    sizes = QUICK if args.quick else FULL
    if args.runs is not None:
        sizes = replace(sizes, runs=args.runs)
    if args.tasks is not None:
        sizes = replace(sizes, tasks=args.tasks)
    if args.long_tasks is not None:
        sizes = replace(sizes, long_tasks=args.long_tasks)
    if args.emails is not None:
        sizes = replace(sizes, emails=args.emails)
    figures: list[Figure] = []
    if args.only in (None, "runner"):
        for mode in args.modes:
            async with dev_server(mode) as server:
                figures += await measure(server, sizes, progress)
    if args.only in (None, "peer"):
        figures += await measure_peer(sizes.runs, sizes.tasks, sizes.emails, progress)
    if args.only is None:
        figures.append(test_suite_figure())
    return figures


def _value(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"


def render(figures: list[Figure]) -> str:
    """One table: figure, mode, median, unit, samples (and a note)."""
    width = max(len(f.name) for f in figures)
    lines = [f"{'figure':<{width}}  {'mode':<7} {'median':>8}  {'unit':<8} samples / note"]
    lines.append("-" * (len(lines[0]) + 20))
    for f in sorted(figures, key=lambda f: (f.name[:1], f.mode)):
        samples = ", ".join(_value(s) for s in f.samples)
        note = f"  {f.note}" if f.note else ""
        lines.append(
            f"{f.name:<{width}}  {f.mode:<7} {_value(f.median):>8}  {f.unit:<8} [{samples}]{note}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each")
    parser.add_argument("--runs", type=int, help="runs per figure (median is kept)")
    parser.add_argument("--tasks", type=int, help="tasks per throughput run (and peer no-op run)")
    parser.add_argument("--long-tasks", type=int, help="tasks of the long run (0 skips it)")
    parser.add_argument("--modes", nargs="+", default=["memory", "sqlite"])
    parser.add_argument("--emails", type=int, help="emails per peer email run (0 skips them)")
    parser.add_argument(
        "--only",
        choices=["runner", "peer"],
        help="runner: figures 1-6 alone; peer: the Celery + Redis comparison alone",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    figures = asyncio.run(run(args))
    elapsed = time.perf_counter() - started
    print()
    print(render(figures))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "quick": args.quick,
                "only": args.only,
                "bench_seconds": round(elapsed, 1),
                "cpus": os.cpu_count(),
                "figures": [
                    asdict(f) | {"median": None if math.isnan(f.median) else f.median}
                    for f in figures
                ],
            },
            indent=2,
        )
    )
    print(f"\nbench took {elapsed:.0f} s; written to {RESULTS}")
    sys.stdout.flush()
    os._exit(0)  # temporalio sdk-python #300


if __name__ == "__main__":
    main()
