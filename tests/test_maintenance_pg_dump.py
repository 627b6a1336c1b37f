"""pg_dump as the worker runs it: no password in ``ps``, dies with the worker or a cancel,
leftovers of killed attempts removed, progress in heartbeats, no password in any error.

Each test gets a PostgreSQL database of its own; its DSN carries a password, which the
machine's trust authentication ignores, so the password can be looked for everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import signal
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from taskrunner.databases import PostgresDatabase
from taskrunner.databases.dsn import redact
from taskrunner.devserver import DevServer
from taskrunner.maintenance.activities import DatabaseActivities
from taskrunner.maintenance.models import BackupProgress, TargetInput, maintenance_input
from taskrunner.maintenance.workflow import MaintenanceWorkflow
from taskrunner.settings import Settings
from tests.helpers import assert_eventually
from tests.helpers.cli import popen_cli
from tests.helpers.databases import postgres_database, postgres_dsn, postgres_locked

PASSWORD = "s3cret-Pw-4711"
PG = TargetInput(target="pg")


def pg_settings(make_settings: Any, database: str) -> tuple[Settings, list[dict[str, str]]]:
    targets = [{"name": "pg", "kind": "postgres", "dsn": postgres_dsn(database, PASSWORD)}]
    return make_settings(maintenance={"targets": targets}), targets


async def pg_dump_under(parent: psutil.Process) -> psutil.Process:
    """The pg_dump started by ``parent`` (or its children), once there is one."""

    async def found() -> psutil.Process:
        for child in parent.children(recursive=True):
            try:
                if child.name() == "pg_dump":
                    return child
            except psutil.NoSuchProcess:
                continue
        raise AssertionError(f"no pg_dump under {parent.pid}")

    return await assert_eventually(found, timeout=60)


async def assert_gone(proc: psutil.Process) -> None:
    async def gone() -> None:
        # A zombie has died; only its entry waits for a reaper.
        with contextlib.suppress(psutil.NoSuchProcess):
            assert proc.status() == psutil.STATUS_ZOMBIE, f"pg_dump {proc.pid} still runs"

    await assert_eventually(gone, timeout=15)


def quick_heartbeats(beats: list[Any]) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_timeout=timedelta(milliseconds=60))
    env.on_heartbeat = lambda *details: beats.append(details)
    return env


async def test_pg_dump_shows_no_password_and_a_cancelled_backup_kills_it(
    make_settings: Any,
) -> None:
    beats: list[Any] = []
    env = quick_heartbeats(beats)
    with postgres_database() as database:
        settings, _ = pg_settings(make_settings, database)
        folder = settings.backups_dir / "pg"
        # The dump waits for the lock: it keeps running.
        with postgres_locked("items", postgres_dsn(database)):
            backup = DatabaseActivities(settings).backup_database
            running = asyncio.ensure_future(env.run(backup, PG))
            dump = await pg_dump_under(psutil.Process())
            command_line = dump.cmdline()
            assert PASSWORD not in " ".join(command_line)
            [dbname] = [arg for arg in command_line if arg.startswith("--dbname=")]
            assert f"dbname={database}" in dbname and "user=postgres" in dbname
            # The password reaches pg_dump through its environment (readable by its user only).
            assert dump.environ().get("PGPASSWORD") == PASSWORD
            [partial] = folder.glob("pg-*.dump.partial")
            while len(beats) < 2:
                await asyncio.sleep(0.02)
            env.cancel()
            with pytest.raises(asyncio.CancelledError):
                await running
            await assert_gone(dump)
        assert not partial.exists()
    assert all(d == (BackupProgress(bytes_written=0),) for d in beats)  # waiting for the lock


async def test_backup_heartbeats_carry_the_bytes_written(make_settings: Any) -> None:
    beats: list[Any] = []
    with postgres_database(rows=300_000) as database:  # an ~11 MB dump, about a second
        settings, _ = pg_settings(make_settings, database)
        result = await quick_heartbeats(beats).run(DatabaseActivities(settings).backup_database, PG)
    written = [progress.bytes_written for (progress,) in beats]
    assert any(0 < n < result.size_bytes for n in written), written
    assert written == sorted(written)  # the file only grows
    assert result.size_bytes > 5_000_000


async def test_killing_the_worker_kills_its_dump_and_the_next_run_removes_the_leftover(
    tmp_path: Path, dev_server: DevServer, dev_client: Client, make_settings: Any, make_worker: Any
) -> None:
    # Big enough that its dump takes seconds (vacuum and analyze come first, so a lock
    # cannot hold the dump without holding them too).
    with postgres_database(rows=1_000_000) as database:
        settings, targets = pg_settings(make_settings, database)
        # The worker as users run it, in its own process: `taskrunner worker`.
        worker = popen_cli(
            "worker",
            cwd=tmp_path,
            TEMPORAL_ADDRESS=dev_server.address,
            TASKRUNNER_TASK_QUEUE=settings.task_queue,
            TASKRUNNER_DATA_DIR=str(settings.data_dir),
            TASKRUNNER_MAINTENANCE__TARGETS=json.dumps(targets),
        )
        params = maintenance_input(settings, force=True)
        try:
            handle = await dev_client.start_workflow(
                MaintenanceWorkflow.run,
                params,
                id=f"maintenance-killed-{uuid.uuid4().hex[:8]}",
                task_queue=settings.task_queue,
            )
            dump = await pg_dump_under(psutil.Process(worker.pid))
            seen = time.monotonic()
            assert PASSWORD not in " ".join(dump.cmdline())
            [leftover] = (settings.backups_dir / "pg").glob("pg-*.dump.partial")
            worker.send_signal(signal.SIGKILL)
            worker.communicate(timeout=30)
            await assert_gone(dump)
            lived = time.monotonic() - seen
            # Its attempt would be retried after the heartbeat timeout; not needed here.
            await handle.terminate("its worker was killed")
            assert leftover.exists()

            async with make_worker(dev_client, settings):
                report = await dev_client.execute_workflow(
                    MaintenanceWorkflow.run,
                    params,
                    id=f"maintenance-next-{uuid.uuid4().hex[:8]}",
                    task_queue=settings.task_queue,
                )
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.communicate(timeout=30)
    [backup] = report.backups
    # It died with the worker, long before a whole dump (the next run's) was done.
    assert lived < backup.duration_seconds / 2, (lived, backup.duration_seconds)
    assert backup.removed_partials == [str(leftover)]
    assert not leftover.exists()
    assert not list((settings.backups_dir / "pg").glob("*.partial"))
    assert report.summary is not None
    assert "- Cleanup: 1 unfinished backup(s) of killed attempts removed" in report.summary


MALFORMED = f"postgresql://admin:{PASSWORD}@[::1/test"
"""libpq quotes this DSN, password included, in its error."""


@pytest.mark.parametrize(
    "dsn",
    [
        MALFORMED,
        f"host=127.0.0.1 password={PASSWORD} user",
        f"host=127.0.0.1 password='{PASSWORD}",
        f"postgresql://127.0.0.1/test?password={PASSWORD}&sslmode=%zz",
    ],
)
def test_a_malformed_dsn_fails_without_its_password(dsn: str, tmp_path: Path) -> None:
    database = PostgresDatabase(dsn)
    for step in (database.vacuum, database.analyze, lambda: database.backup(tmp_path / "x")):
        with pytest.raises(ApplicationError) as caught:
            step()
        assert caught.value.type == "ConfigurationError" and caught.value.non_retryable
        assert PASSWORD not in caught.value.message
    assert PASSWORD not in database.location
    assert not (tmp_path / "x").exists()


def test_redact_masks_the_password_in_every_form_it_takes() -> None:
    encoded = "postgresql://u:p%40ss@h/db"
    assert redact('bad "postgresql://u:p%40ss@h/db" and p@ss', encoded) == (
        'bad "postgresql://u:***@h/db" and ***'
    )
    assert redact(f"quoted '{PASSWORD}'", f"password='{PASSWORD}' host=x") == "quoted ***"
    assert redact("nothing secret", "host=x") == "nothing secret"
