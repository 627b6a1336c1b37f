"""``taskrunner worker`` sending emails to a real SMTP server (aiosmtpd, in the test):
at ``max_concurrency`` 3, calls of up to 30 emails (the email type's bundle) send at most
3 at once, and every email arrives once."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from taskrunner.devserver import DevServer
from taskrunner.queue.bundles import RUN_BUNDLE
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec
from tests.helpers.cli import cli_env
from tests.helpers.smtp_receiver import smtp_receiver
from tests.helpers.terminal import Terminal

EMAILS = 45


async def test_a_worker_sends_each_email_once_at_most_max_concurrency_at_once(
    tmp_path: Path, dev_server: DevServer, dev_client: Any, make_settings: Any
) -> None:
    settings = make_settings(queue={"max_concurrency": 3})
    with smtp_receiver() as mailbox:
        mailbox.data_delay = 0.02
        env = cli_env(
            TEMPORAL_ADDRESS=dev_server.address,
            TASKRUNNER_TASK_QUEUE=settings.task_queue,
            TASKRUNNER_DATA_DIR=str(settings.data_dir),
            TASKRUNNER_SMTP__HOST=mailbox.host,
            TASKRUNNER_SMTP__PORT=str(mailbox.port),
        )
        terminal = Terminal(["worker"], tmp_path, env)
        try:
            terminal.read_until("Worker polling", 60)
            queue = QueueClient(dev_client, settings, f"mail-{uuid.uuid4().hex[:6]}")
            specs = [
                TaskSpec(
                    type="email",
                    payload={"recipient": f"user{i}@example.com", "subject": f"n{i}"},
                )
                for i in range(EMAILS)
            ]
            await queue.enqueue_batch(specs)
            assert (await queue.drain()).done
            stats = await queue.stats()
            history = [e async for e in queue.handle.fetch_history_events()]
            terminal.ctrl_c()
            assert terminal.wait(60) == 130
        finally:
            terminal.kill()
    assert (stats.completed, stats.failed) == (EMAILS, 0)
    assert sorted(str(m["Subject"]) for m in mailbox.messages) == sorted(
        f"n{i}" for i in range(EMAILS)
    )
    assert 1 < mailbox.max_in_flight <= 3, "max_concurrency is how many emails go at once"
    calls = [
        e.activity_task_scheduled_event_attributes
        for e in history
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert {c.activity_type.name for c in calls} == {RUN_BUNDLE}
    assert len(calls) < EMAILS // 3, "the calls carried no more emails than free slots"
