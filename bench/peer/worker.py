"""A Celery worker subprocess (prefork pool) for one peer run, with its Redis db flushed."""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import redis

from bench.peer.processes import log_tail, start_group, stop_group
from bench.peer.shared import CELERY_QUEUE, REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
"""The repository root: the worker imports bench.peer.celery_app from there."""
READY_SECONDS = 60.0
"""How long the worker may take to answer its warm-up tasks."""


class PeerUnavailable(Exception):
    """The peer cannot be measured here; the message says why, on one line."""


def unavailable() -> str | None:
    """Why the Celery figures cannot be measured (None: they can)."""
    if importlib.util.find_spec("celery") is None:
        return "Celery is not installed (make bench installs it: pip install -e '.[dev,bench]')"
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as err:
        return f"Redis at {REDIS_URL} is not reachable: {err}"
    finally:
        client.close()
    return None


def flush() -> None:
    """Empty the benchmark's Redis database (and only that one)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()


@contextlib.contextmanager
def celery_worker(concurrency: int, log_dir: Path) -> Iterator[Any]:
    """A prefork worker with ``concurrency`` processes, warmed up; yields the Celery app.

    The worker is its own process group, stopped (and checked gone) on the way out.
    """
    from bench.peer import celery_app

    flush()
    log = log_dir / f"celery-{uuid.uuid4().hex[:8]}.log"
    command = [
        *(sys.executable, "-m", "celery", "-A", "bench.peer.celery_app", "worker"),
        *("--pool", "prefork", "--concurrency", str(concurrency), "-Q", CELERY_QUEUE),
        *("--hostname", f"bench-{uuid.uuid4().hex[:8]}@%h", "--loglevel", "WARNING"),
        # Startup handshakes between workers: nothing to talk to here.
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
    ]
    proc = start_group(command, log, ROOT, PYTHONPATH=str(ROOT))
    try:
        _warm_up(celery_app, proc, log, concurrency)
        yield celery_app
    finally:
        stop_group(proc)
        flush()


def _warm_up(celery_app: Any, proc: Any, log: Path, concurrency: int) -> None:
    """Untimed: one no-op per pool process, so every child is up and connected."""
    from celery import group

    result = group(celery_app.noop.s(i) for i in range(concurrency)).apply_async()
    deadline = time.monotonic() + READY_SECONDS
    while not result.ready():
        if proc.poll() is not None:
            raise PeerUnavailable(f"celery worker exited ({proc.returncode}): {log_tail(log)}")
        if time.monotonic() > deadline:
            raise PeerUnavailable(
                f"celery worker not ready in {READY_SECONDS:.0f} s: {log_tail(log)}"
            )
        time.sleep(0.05)
    result.get(timeout=READY_SECONDS)
    result.forget()
