"""`make bench`: measure, print one table, write bench/results/latest.json."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import Figure, dev_server
from bench.limit import bare_activities_per_second

RESULTS = Path(__file__).parent / "results" / "latest.json"
DEFAULT_CONCURRENCY = 10
"""The queue's default max_concurrency (settings.queue.max_concurrency)."""


async def run(args: argparse.Namespace) -> list[Figure]:
    figures: list[Figure] = []
    for mode in args.modes:
        async with dev_server(mode) as server:
            for c in (DEFAULT_CONCURRENCY, 50):
                fig = Figure(f"limit: bare workflow, no-op activities, C={c}", "activities/s", mode)
                for _ in range(args.runs):
                    fig.samples.append(await bare_activities_per_second(server, args.tasks, c))
                figures.append(fig)
                print(f"  {fig.mode:<7} {fig.name:<60} {fig.median:>10.1f} {fig.unit}", flush=True)
    return figures


def render(figures: list[Figure]) -> str:
    width = max(len(f.name) for f in figures)
    lines = [f"{'figure':<{width}}  {'mode':<7} {'median':>10}  unit       samples"]
    lines.append("-" * len(lines[0]))
    for f in figures:
        samples = ", ".join(f"{s:.1f}" for s in f.samples)
        lines.append(f"{f.name:<{width}}  {f.mode:<7} {f.median:>10.1f}  {f.unit:<10} [{samples}]")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median is kept)")
    parser.add_argument("--tasks", type=int, default=1000, help="tasks per throughput run")
    parser.add_argument("--modes", nargs="+", default=["memory", "sqlite"])
    args = parser.parse_args()
    figures = asyncio.run(run(args))
    print()
    print(render(figures))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "runs": args.runs,
                "figures": [asdict(f) | {"median": f.median} for f in figures],
            },
            indent=2,
        )
    )
    print(f"\nwritten to {RESULTS}")
    sys.stdout.flush()
    os._exit(0)  # temporalio sdk-python #300


if __name__ == "__main__":
    main()
