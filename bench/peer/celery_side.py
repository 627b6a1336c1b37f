"""The Celery half of each peer figure: one timed run, from first enqueue to last result."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.peer.smtp_sink import smtp_sink
from bench.peer.worker import celery_worker

RESULT_SECONDS = 600.0
"""How long one run may wait for its results before it fails."""


def _timed(celery_app: Any, signatures: list[Any]) -> float:
    """Seconds from sending ``signatures`` as one group until every result is in."""
    from celery import group

    job = group(signatures)
    started = time.perf_counter()
    result = job.apply_async()
    values = result.get(timeout=RESULT_SECONDS)
    elapsed = time.perf_counter() - started
    assert len(values) == len(signatures), len(values)
    result.forget()
    return elapsed


def celery_noop_per_second(tasks: int, concurrency: int, log_dir: Path) -> float:
    """``tasks`` no-op tasks on a fresh prefork worker of ``concurrency`` processes."""
    with celery_worker(concurrency, log_dir) as celery_app:
        signatures = [celery_app.noop.s(i) for i in range(tasks)]
        return tasks / _timed(celery_app, signatures)


def celery_emails_per_second(emails: int, concurrency: int, log_dir: Path) -> float:
    """``emails`` email tasks, each one SMTP connection to a local sink that counts them."""
    with smtp_sink(log_dir) as sink, celery_worker(concurrency, log_dir) as celery_app:
        signatures = [
            celery_app.send_email.s(sink.host, sink.port, *email_fields(i)) for i in range(emails)
        ]
        elapsed = _timed(celery_app, signatures)
        received = sink.count()
    assert received == emails, f"the SMTP sink received {received} of {emails} emails"
    return emails / elapsed


def email_fields(index: int) -> tuple[str, str, str]:
    """Recipient, subject and body of the benchmark's email ``index`` (both sides)."""
    return f"user{index}@example.com", f"bench email {index}", f"Hello {index}.\n"
