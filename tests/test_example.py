"""The example in examples/ works as the README says: its task type loads and runs, its two
jobs are listed, applied, and shown with their next runs in the example's zone."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client

from taskrunner.devserver import DevServer
from tests.helpers.cli import ROOT, run_cli
from tests.helpers.cli_worker import worker

pytestmark = pytest.mark.devserver


@pytest.fixture
async def example_env(
    tmp_path: Path, dev_server: DevServer, dev_client: Client
) -> AsyncIterator[dict[str, str]]:
    prefix = f"ex-{uuid.uuid4().hex[:6]}-"
    yield {
        "TASKRUNNER_CONFIG": "examples/taskrunner.toml",
        "TEMPORAL_ADDRESS": dev_server.address,
        "TASKRUNNER_TASK_QUEUE": f"{prefix}tq",
        "TASKRUNNER_DATA_DIR": str(tmp_path / "data"),
        "TASKRUNNER_SCHEDULES__ID_PREFIX": prefix,
    }
    async for listed in await dev_client.list_schedules():
        if listed.id.startswith(prefix):
            await dev_client.get_schedule_handle(listed.id).delete()


def test_the_examples_jobs_are_listed_then_applied(example_env: dict[str, str]) -> None:
    before = run_cli("jobs", "list", cwd=ROOT, **example_env)
    assert before.returncode == 0, before
    assert before.stdout.count("[not applied yet") == 2, before.stdout
    assert "prune-reports" in before.stdout and "sales-report" in before.stdout

    applied = run_cli("schedules", "apply", cwd=ROOT, **example_env)
    assert applied.returncode == 0, applied
    after = run_cli("jobs", "list", cwd=ROOT, **example_env)
    assert after.returncode == 0, after
    blocks = after.stdout.strip().split("\n\n")
    assert [b.split()[0] for b in blocks] == ["prune-reports", "sales-report"], after.stdout
    for block in blocks:
        assert "[active]" in block and "(Europe/Berlin)" in block
        runs = next(line for line in block.splitlines() if "next runs:" in line)
        assert " CET" in runs or " CEST" in runs, runs


async def test_the_examples_task_type_runs(
    example_env: dict[str, str], tmp_path: Path, dev_client: Client
) -> None:
    reports = tmp_path / "data" / "reports"
    reports.mkdir(parents=True)
    for name, age_days in (("old.pdf", 40), ("new.pdf", 1)):
        (reports / name).write_text(name)
        stamp = time.time() - age_days * 86_400
        os.utime(reports / name, (stamp, stamp))
    bad = run_cli(
        "enqueue",
        "prune_files",
        "--data",
        '{"folder": "reports", "max_age_days": 0}',
        cwd=ROOT,
        **example_env,
    )
    assert bad.returncode == 2, bad
    assert "max_age_days: Input should be greater than 0" in bad.stderr
    async with worker(ROOT, dev_client, **example_env):
        enqueued = run_cli(
            "enqueue",
            "prune_files",
            "--data",
            '{"folder": "reports", "max_age_days": 30}',
            cwd=ROOT,
            **example_env,
        )
        assert enqueued.returncode == 0, enqueued
        task_id = enqueued.stdout.split()[2]
        drained = run_cli("queue", "drain", cwd=ROOT, **example_env)
        assert drained.returncode == 0, drained
        shown = run_cli("queue", "show", task_id, cwd=ROOT, **example_env)
    assert "removed 1 file(s) older than 30 days" in shown.stdout, shown.stdout
    assert sorted(p.name for p in reports.iterdir()) == ["new.pdf"]
