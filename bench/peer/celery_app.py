"""The Celery side of the peer benchmark: its app and its two tasks.

The worker runs it as ``celery -A bench.peer.celery_app worker`` (see worker.py); the
benchmark process imports it too, to send tasks and read their results. Broker and
result backend are one Redis database of its own (shared.REDIS_URL), flushed before and
after each run, so nothing else in that Redis is touched.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from celery import Celery

from bench.peer.shared import CELERY_QUEUE, FROM_ADDRESS, REDIS_URL, SMTP_TIMEOUT_SECONDS

app = Celery("bench_peer", broker=REDIS_URL, backend=REDIS_URL)
app.conf.update(
    task_acks_late=True,
    task_default_queue=CELERY_QUEUE,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="bench.noop")
def noop(index: int) -> int:
    return index


@app.task(name="bench.email")
def send_email(host: str, port: int, recipient: str, subject: str, body: str) -> str:
    """One email through one SMTP connection, as the runner's email task sends it."""
    message = EmailMessage()
    message["From"] = FROM_ADDRESS
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{send_email.request.id}@bench-celery>"
    message.set_content(body)
    with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS) as client:
        client.send_message(message)
    return f"Email sent to {recipient}"
