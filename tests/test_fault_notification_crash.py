"""A worker SIGKILLed while a channel sends the health alert: the next worker delivers it.

The webhook receiver holds the alert's request unanswered until the worker is
killed, so the send is surely in progress; a new worker then gets Temporal's retry
of the notification activity, which resumes the same page: the webhook gets the
alert (with the same ``delivery_id``), the console channel, confirmed before the
kill, does not get it twice.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from taskrunner.devserver import DevServer
from taskrunner.settings import Settings
from tests.helpers import assert_eventually
from tests.helpers.peers import http_peer
from tests.helpers.processes import kill, start_ledger_worker
from tests.helpers.readings import FileReadings, start_health

pytestmark = pytest.mark.faults

ALERT_LINE = "📧 [ERROR] System health alert:"


def confirmed_channels(settings: Settings) -> set[str]:
    path = settings.notifications.state_file(settings.data_dir)
    if not path.exists():
        return set()
    db = sqlite3.connect(path)
    try:
        return {row[0] for row in db.execute("SELECT channel FROM page_channel")}
    except sqlite3.OperationalError:  # not created yet
        return set()
    finally:
        db.close()


async def test_a_worker_killed_mid_send_delivers_the_alert_from_the_next_worker(
    tmp_path: Path, dev_server: DevServer, dev_client: Client, make_settings: Any
) -> None:
    settings = make_settings()
    readings, log = tmp_path / "readings.json", tmp_path / "worker.log"
    FileReadings.write(readings, memory=95)  # memory over 90%: an error alert, every run
    workers: list[subprocess.Popen[bytes]] = []
    with http_peer() as peer:
        peer.hold = 1
        env = {
            "TASKRUNNER_NOTIFICATIONS__LOG__ENABLED": "false",
            "TASKRUNNER_NOTIFICATIONS__WEBHOOK__ENABLED": "true",
            "TASKRUNNER_NOTIFICATIONS__WEBHOOK__URL": f"{peer.url}/hook",
        }

        def start_worker() -> None:
            workers.append(
                start_ledger_worker(
                    *(dev_server.address, settings.task_queue, settings.data_dir),
                    *(tmp_path / "ledger.db", log),
                    readings=readings,
                    settings_env=env,
                )
            )

        try:
            start_worker()
            handle = await start_health(dev_client, settings)
            assert await asyncio.to_thread(peer.holding.wait, 60), "no alert reached the webhook"

            async def console_confirmed() -> None:
                assert confirmed_channels(settings) == {"console"}

            await assert_eventually(console_confirmed, timeout=10)
            kill(workers[0])  # SIGKILL, the webhook's request still unanswered
            peer.release.set()
            start_worker()
            report = await asyncio.wait_for(handle.result(), timeout=120)
            again = await asyncio.wait_for(
                (await start_health(dev_client, settings)).result(), timeout=60
            )
            history = await handle.fetch_history()
        finally:
            for worker in workers:
                kill(worker)
    assert report.alerted and report.alert_sent
    held, delivered = (r.json() for r in peer.requests)
    assert held["delivery_id"] == delivered["delivery_id"]  # one page, resumed
    assert held["message"] == delivered["message"] == report.alert_message
    assert log.read_text().count(ALERT_LINE) == 1  # the console was not sent it twice
    starts = [
        e.activity_task_started_event_attributes.attempt
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
    ]
    assert starts[-1] == 2  # send_notification's retry, on the new worker
    # The alert is open and confirmed: the next check updates it, without paging.
    assert again.alerted and not again.alert_sent and len(peer.requests) == 2
