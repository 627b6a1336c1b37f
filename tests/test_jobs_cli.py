"""``taskrunner jobs ...`` as users run it: real subprocesses against the dev server."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import Client

from taskrunner.cli import build_parser
from taskrunner.cli.jobs import job_from_args
from taskrunner.devserver import DevServer
from taskrunner.queue.client import QueueClient
from taskrunner.settings import load_settings
from tests.helpers import assert_eventually
from tests.helpers.cli import run_cli
from tests.helpers.cli_worker import worker
from tests.helpers.schedules import answered_on_a_terminal, delete_schedules, schedule_exists

NEW_YORK = ZoneInfo("America/New_York")
SETTINGS = """
timezone = "Europe/Berlin"
task_modules = ["tests.helpers.job_tasks"]

[queue]
name = "{queue}"

[schedules]
id_prefix = "{prefix}"

[[jobs]]
name = "nightly"
task = "tally"
payload = {{ n = 7 }}
cron = ["30 2 * * *"]
timezone = "America/New_York"

[[jobs]]
name = "pinged"
task = "tally"
cron = ["0 0 1 1 *"]
overlap = "allow"
"""


@pytest.fixture
async def cli_only(tmp_path: Path, dev_server: DevServer, dev_client: Client) -> AsyncIterator[Any]:
    """``taskrunner`` in a folder whose taskrunner.toml declares two jobs (nothing applied);
    the test's schedules are deleted after it."""
    tag = uuid.uuid4().hex[:8]
    (tmp_path / "taskrunner.toml").write_text(SETTINGS.format(queue=f"q-{tag}", prefix=f"{tag}-"))
    env = {"TEMPORAL_ADDRESS": dev_server.address, "TASKRUNNER_TASK_QUEUE": f"tq-{tag}"}

    def run(*args: str, stdin: str | None = None) -> Any:
        return run_cli(*args, cwd=tmp_path, stdin=stdin, **env)

    run.prefix = f"{tag}-"  # type: ignore[attr-defined]
    run.queue = f"q-{tag}"  # type: ignore[attr-defined]
    run.env = env  # type: ignore[attr-defined]
    yield run
    await delete_schedules(dev_client, f"{tag}-")


@pytest.fixture
async def cli(cli_only: Any, tmp_path: Path, dev_client: Client) -> AsyncIterator[Any]:
    """The same, with the jobs applied and the runner's worker running."""
    async with worker(tmp_path, dev_client, **cli_only.env):
        applied = cli_only("schedules", "apply")
        assert applied.returncode == 0, applied.stderr
        assert f"created   {cli_only.prefix}job-nightly" in applied.stdout
        yield cli_only


async def test_jobs_list_shows_the_next_runs_in_the_jobs_zone(cli: Any) -> None:
    listed = cli("jobs", "list")
    assert listed.returncode == 0, listed.stderr
    nightly = listed.stdout.split("\n\n")[0]
    assert nightly.startswith("nightly  [active]  (settings)")
    assert "30 2 * * *  (America/New_York), once per local day (backup 30 3 * * *)" in nightly
    assert 'tally {"n": 7} -> queue ' + cli.queue in nightly
    runs = re.search(r"next runs: (.*)", nightly)
    assert runs is not None
    shown = [datetime.strptime(t[:16], "%Y-%m-%d %H:%M") for t in runs.group(1).split(", ")]
    assert len(shown) == 3 and all((t.hour, t.minute) == (2, 30) for t in shown)
    assert all(t.endswith(("EST", "EDT")) for t in runs.group(1).split(", "))
    first = datetime.now(NEW_YORK).replace(tzinfo=None)
    assert first < shown[0] < first.replace(year=first.year + 1)
    assert "pinged  [active]" in listed.stdout and "(Europe/Berlin)" in listed.stdout


async def test_jobs_pause_and_resume_show_in_the_listing(cli: Any) -> None:
    paused = cli("jobs", "pause", "nightly", "--note", "db migration")
    assert (paused.returncode, paused.stdout) == (0, "paused nightly\n"), paused.stderr
    assert "nightly  [PAUSED (db migration)]" in cli("jobs", "describe", "nightly").stdout
    resumed = cli("jobs", "resume", "nightly")
    assert (resumed.returncode, resumed.stdout) == (0, "resumed nightly\n"), resumed.stderr
    assert "nightly  [active]" in cli("jobs", "list").stdout


async def test_jobs_trigger_prints_the_run_and_its_task_is_enqueued(
    cli: Any, dev_client: Client, make_settings: Any
) -> None:
    triggered = cli("jobs", "trigger", "pinged")
    assert triggered.returncode == 0, triggered.stderr
    found = re.match(r"triggered pinged: started workflow (\S+)\n", triggered.stdout)
    assert found is not None, triggered.stdout
    assert found.group(1).startswith(f"{cli.prefix}job-pinged/run-")
    queue = QueueClient(dev_client, load_settings(), cli.queue)

    async def done() -> None:
        assert await queue.exists(), "the fire has not enqueued yet"
        tasks = await queue.list()
        assert [(t.type, t.status.value) for t in tasks] == [("tally", "completed")], tasks
        assert (tasks[0].spec.key or "").startswith(f"job:{cli.prefix}pinged@")

    await assert_eventually(done, timeout=60, interval=0.5)
    described = cli("jobs", "describe", "pinged").stdout
    assert f"-> completed (task {(await queue.list())[0].id}, {found.group(1)})" in described


async def test_jobs_add_and_remove(cli: Any) -> None:
    added = cli("jobs", "add", "extra", "--task", "tally", "--every", "1h30m", "--data", "{}")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith(f"added extra (schedule {cli.prefix}job-extra)\n")
    assert "every 1h30m" in added.stdout and "(added from the CLI)" in added.stdout
    refused = cli("jobs", "remove", "extra", stdin="")
    assert refused.returncode == 2 and "add --yes" in refused.stderr
    removed = cli("jobs", "remove", "extra", "--yes")
    assert (removed.returncode, removed.stdout, removed.stderr) == (0, "removed extra\n", "")
    again = cli("jobs", "remove", "nightly", "--yes")
    assert again.returncode == 0 and "the next `taskrunner schedules apply`" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("add", "x", "--task", "tally"), "jobs add arguments: give exactly one of cron and every"),
        (("add", "x", "--task", "tally", "--every", "soon"), "jobs add --every: 'soon' is not"),
        (("add", "x", "--task", "nope", "--every", "1h"), "job 'x': unknown task type 'nope'"),
        (("add", "x", "--task", "tally", "--cron", "0 2 * * 8"), "day of week '8'"),
        (("add", "nightly", "--task", "tally", "--every", "1h"), "is declared in the settings"),
        (("describe", "nightly"), "job 'nightly' does not exist on the server; run `taskrunner"),
        (("trigger", "nope"), "job 'nope' does not exist on the server; known jobs: none"),
    ],
)
async def test_jobs_mistakes_are_one_line_with_status_2(
    cli_only: Any, args: tuple[str, ...], message: str
) -> None:
    result = cli_only("jobs", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1


async def test_applying_the_jobs_again_changes_nothing(cli_only: Any) -> None:
    first = cli_only("schedules", "apply")
    assert first.returncode == 0, first.stderr
    again = cli_only("schedules", "apply")
    assert again.returncode == 0, again.stderr
    lines = again.stdout.splitlines()
    for name in ("nightly", "pinged"):
        assert f"unchanged {cli_only.prefix}job-{name}" in lines, again.stdout
    assert all(line.startswith("unchanged ") for line in lines), again.stdout


async def test_jobs_trigger_says_when_the_previous_fire_holds_it(
    cli_only: Any, dev_client: Client
) -> None:
    applied = cli_only("schedules", "apply")
    assert applied.returncode == 0, applied.stderr
    # No worker runs: the first fire's run stays open, as while its task is pending.
    first = cli_only("jobs", "trigger", "nightly")
    found = re.match(r"triggered nightly: started workflow (\S+)\n", first.stdout)
    assert first.returncode == 0 and found is not None, (first.stdout, first.stderr)
    try:
        second = cli_only("jobs", "trigger", "nightly")
        assert (second.returncode, second.stdout) == (
            0,
            "triggered nightly, but it was skipped: the previous fire's task is still "
            "pending or running (overlap skip)\n",
        ), second.stderr
    finally:
        await dev_client.get_workflow_handle(found.group(1)).terminate("test over")


async def test_jobs_remove_asks_on_a_terminal_and_keeps_the_job_unless_told_yes(
    cli_only: Any, tmp_path: Path, dev_client: Client
) -> None:
    added = cli_only("jobs", "add", "extra", "--task", "tally", "--every", "1h")
    assert added.returncode == 0, added.stderr
    schedule_id = f"{cli_only.prefix}job-extra"

    def remove(name: str, answer: bytes) -> Any:
        return answered_on_a_terminal(["jobs", "remove", name], tmp_path, cli_only.env, answer)

    kept = remove("extra", b"n\n")
    assert "Remove job extra? Its tasks already enqueued stay. [y/N]" in kept.output
    assert kept.code == 1 and "kept extra" in kept.output, kept.output
    assert await schedule_exists(dev_client, schedule_id)
    declared = remove("nightly", b"\n")  # the settings' job: the prompt says it comes back
    assert "The settings declare it: the next apply creates it again." in declared.output
    assert declared.code == 1 and "kept nightly" in declared.output, declared.output

    removed = remove("extra", b"y\n")
    assert removed.code == 0 and "removed extra" in removed.output, removed.output
    assert not await schedule_exists(dev_client, schedule_id)


def test_jobs_list_without_jobs_says_how_to_declare_one(
    tmp_path: Path, dev_server: DevServer
) -> None:
    listed = run_cli(
        "jobs",
        "list",
        cwd=tmp_path,
        TEMPORAL_ADDRESS=dev_server.address,
        TASKRUNNER_SCHEDULES__ID_PREFIX=f"{uuid.uuid4().hex[:8]}-",
    )
    assert (listed.returncode, listed.stdout) == (
        0,
        "no jobs (declare [[jobs]] in the settings, or `taskrunner jobs add`)\n",
    ), listed.stderr


def test_jobs_add_sets_each_setting_from_its_flag() -> None:
    flags = {
        "--task": "tally",
        "--data": '{"n": 3}',
        "--cron": "0 2 * * *",
        "--timezone": "Asia/Tokyo",
        "--jitter": "30s",
        "--start": "2026-01-01",
        "--end": "2026-12-31",
        "--overlap": "allow",
        "--catchup-window": "1m",
        "--queue": "mail",
        "--priority": "3",
    }
    given = [part for flag_value in flags.items() for part in flag_value]
    args = build_parser().parse_args(
        ["jobs", "add", "x", *given, "--paused", "--no-once-per-local-day"]
    )
    job = job_from_args(args)
    assert job.model_dump(mode="json") == {
        "name": "x",
        "task": "tally",
        "payload": {"n": 3},
        "cron": ["0 2 * * *"],
        "every": None,
        "timezone": "Asia/Tokyo",
        "jitter": "PT30S",
        "start": "2026-01-01",
        "end": "2026-12-31",
        "paused": True,
        "overlap": "allow",
        "catchup_window": "PT1M",
        "queue": "mail",
        "priority": 3,
        "once_per_local_day": False,
    }
