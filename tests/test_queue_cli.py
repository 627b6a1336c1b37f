"""The queue CLI as users run it: real subprocesses against the dev server."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from taskrunner.devserver import DevServer
from tests.helpers.cli import popen_cli, run_cli
from tests.helpers.cli_worker import worker

EMAIL = '{"recipient": "admin@example.com", "subject": "Daily Report"}'


@pytest.fixture
async def cli(tmp_path: Path, dev_server: DevServer, dev_client: Client) -> AsyncIterator[Any]:
    """Run ``taskrunner`` against the dev server, on a queue and task queue of this test."""
    queue = f"cli-{uuid.uuid4().hex[:8]}"
    env = {"TEMPORAL_ADDRESS": dev_server.address, "TASKRUNNER_TASK_QUEUE": f"tq-{queue}"}

    def run(*args: str, stdin: str | None = None, **extra: str) -> Any:
        return run_cli(
            *args,
            "--queue",
            queue,
            cwd=tmp_path,
            stdin=stdin,
            **{**env, **extra},
        )

    run.queue = queue  # type: ignore[attr-defined]
    async with worker(tmp_path, dev_client, **env):
        yield run


def _ok(result: Any) -> str:
    assert result.returncode == 0, result.stderr
    return str(result.stdout)


def _one_line_error(result: Any) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return str(lines[0])


def test_enqueue_then_stats_list_show_and_cancel(cli: Any) -> None:
    # A far-off run_at keeps the task pending whatever the worker is doing.
    out = _ok(cli("enqueue", "email", "--data", EMAIL, "--run-at", "2099-01-01T00:00:00Z"))
    found = re.fullmatch(rf"Enqueued task (\w+) \(email\) on queue {cli.queue}\n", out)
    assert found, out
    task_id = found.group(1)

    stats = _ok(cli("queue", "stats"))
    assert f"Queue {cli.queue} (processing, run 1)" in stats
    assert re.search(r"^pending\s+1$", stats, re.M), stats
    assert re.search(r"^email\s+1\s+0\s+0\s+0\s+0$", stats, re.M), stats

    listing = _ok(cli("queue", "list", "--status", "pending"))
    assert listing.splitlines()[0].split()[:3] == ["ID", "TYPE", "STATUS"]
    assert re.search(rf"^{task_id}\s+email\s+pending\s+0\s+0\s", listing, re.M), listing

    shown = _ok(cli("queue", "show", task_id))
    assert f"id:       {task_id}" in shown
    assert "run at:   2099-01-01 00:00:00 UTC" in shown
    # Times are shown in the settings' zone, with its name.
    tokyo = _ok(cli("queue", "show", task_id, TASKRUNNER_TIMEZONE="Asia/Tokyo"))
    assert "run at:   2099-01-01 09:00:00 JST" in tokyo
    assert '"recipient": "admin@example.com"' in shown

    assert _ok(cli("queue", "cancel", task_id)).strip() == f"task {task_id} cancelled"
    assert re.search(r"^cancelled\s+1$", _ok(cli("queue", "stats")), re.M)


def test_cli_errors_are_one_line(cli: Any) -> None:
    bad_json = _one_line_error(cli("enqueue", "email", "--data", "{oops"))
    assert bad_json.startswith("error: --data is not valid JSON: ")

    priority = _one_line_error(cli("enqueue", "email", "--priority", "9999999"))
    assert priority == "error: invalid --priority: Input should be less than or equal to 1000000"

    unknown = _one_line_error(cli("enqueue", "fax", "--data", "{}"))
    assert unknown.startswith("error: unknown task type 'fax' (known types: ")
    assert "dataSync, email, report" in unknown

    payload = _one_line_error(cli("enqueue", "email", "--data", '{"recipient": "nobody"}'))
    assert payload.startswith("error: invalid payload for task type 'email': recipient: ")
    assert "subject: Field required" in payload

    missing = _one_line_error(cli("queue", "show", "nosuchtask"))
    assert missing == f"error: unknown task id 'nosuchtask' in queue '{cli.queue}'"
    assert (
        _one_line_error(cli("queue", "cancel", "nosuchtask"))
        == f"error: unknown task id 'nosuchtask' in queue '{cli.queue}'"
    )
    retried = _one_line_error(cli("queue", "retry", "nosuchtask"))
    assert "nosuchtask" in retried and retried.startswith("error: "), retried


def test_enqueue_reads_data_from_a_file_or_stdin(cli: Any, tmp_path: Path) -> None:
    later = ("--run-at", "2099-01-01T00:00:00Z")
    (tmp_path / "payload.json").write_text(EMAIL)
    assert _ok(cli("enqueue", "email", "--data", "@payload.json", *later)).startswith("Enqueued")
    piped = _ok(cli("enqueue", "email", "--data", "-", *later, stdin=EMAIL))
    task_id = piped.split()[2]
    assert '"recipient": "admin@example.com"' in _ok(cli("queue", "show", task_id))

    missing = _one_line_error(cli("enqueue", "email", "--data", "@nope.json"))
    assert missing == "error: --data @nope.json: no such file nope.json"
    (tmp_path / "bad.json").write_text("{oops")
    bad = _one_line_error(cli("enqueue", "email", "--data", "@bad.json"))
    assert bad.startswith("error: --data @bad.json is not valid JSON: ")
    stdin = _one_line_error(cli("enqueue", "email", "--data", "-", stdin="[1]"))
    assert stdin.startswith("error: --data from stdin must be a JSON object")


def test_enqueue_refuses_an_unknown_report_naming_the_declared_ones(cli: Any) -> None:
    line = _one_line_error(cli("enqueue", "report", "--data", '{"report_type": "inventory"}'))
    assert line == (
        "error: invalid payload for task type 'report': report_type: Value error, "
        "unknown report 'inventory' (known reports: sales)"
    )


def test_enqueue_warns_of_a_run_at_in_the_past(cli: Any) -> None:
    result = cli("enqueue", "email", "--data", EMAIL, "--run-at", "2000-01-01T00:00")
    assert result.returncode == 0 and result.stdout.startswith("Enqueued task "), result.stderr
    assert result.stderr.splitlines() == [
        "warning: --run-at 2000-01-01T00:00 (2000-01-01 00:00:00 UTC) is in the past; "
        "the task runs now"
    ]


def test_list_refuses_a_limit_below_one(cli: Any) -> None:
    result = cli("queue", "list", "--limit", "-1")
    assert result.returncode == 2 and not result.stdout
    assert result.stderr == (  # one line, without the usage argparse would print first
        "error: taskrunner queue list: argument --limit: must be at least 1 (got -1) "
        "(see taskrunner queue list --help)\n"
    )


def test_commands_on_a_queue_that_does_not_exist_are_one_line(cli: Any) -> None:
    for args in (("queue", "show", "abc"), ("queue", "stats"), ("queue", "retry", "abc")):
        line = _one_line_error(cli(*args))
        assert line == f"error: queue '{cli.queue}' does not exist yet; enqueue a task to create it"


def test_drain_returns_when_only_future_tasks_remain(cli: Any) -> None:
    _ok(cli("enqueue", "email", "--data", EMAIL, "--run-at", "2099-01-01T00:00:00Z"))
    out = _ok(cli("queue", "drain"))
    assert out.startswith(f"Draining queue {cli.queue}: waiting for the tasks due now ")
    assert "Task processing complete: 0 tasks processed" in out
    assert "1 task(s) wait for a later time (run_at or a retry backoff)" in out


async def test_ctrl_c_ends_a_waiting_drain_in_one_line(
    tmp_path: Path, dev_server: DevServer, dev_client: Client
) -> None:
    queue = f"cli-{uuid.uuid4().hex[:8]}"
    # An SMTP server that accepts connections and never greets: the email task waits.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        smtp = {
            "TASKRUNNER_SMTP__HOST": "127.0.0.1",
            "TASKRUNNER_SMTP__PORT": str(silent.getsockname()[1]),
            "TASKRUNNER_SMTP__TIMEOUT_SECONDS": "60",
        }
        queue_env = {
            "TEMPORAL_ADDRESS": dev_server.address,
            "TASKRUNNER_TASK_QUEUE": f"tq-{queue}",
        }
        args = ["--queue", queue]
        async with worker(tmp_path, dev_client, **queue_env, **smtp):
            _ok(run_cli("enqueue", "email", "--data", EMAIL, *args, cwd=tmp_path, **queue_env))
            drain = popen_cli("queue", "drain", *args, cwd=tmp_path, **queue_env)
            code, stderr = _interrupt_drain(drain, queue)
            silent.close()  # the waiting email attempt fails now: the worker stops at once
    assert code == 130
    assert stderr.strip().splitlines() == ["interrupted (Ctrl-C)"], stderr


def _interrupt_drain(drain: subprocess.Popen[str], queue: str) -> tuple[int, str]:
    """Ctrl-C a drain once it is waiting; its exit status and stderr."""
    try:
        assert drain.stdout is not None
        first = drain.stdout.readline()  # said at once, before the drain is asked
        assert first == (
            f"Draining queue {queue}: waiting for the tasks due now "
            "(Ctrl-C stops the wait, not the queue)...\n"
        )
        progress = drain.stdout.readline()  # the first progress line: the drain waits
        assert progress.startswith("draining: 0 finished"), progress
        drain.send_signal(signal.SIGINT)
        code = drain.wait(timeout=60)
    finally:
        drain.kill()
    return code, drain.stderr.read() if drain.stderr else ""


async def test_a_terminated_queue_is_recovered_from_the_command_line(
    cli: Any, dev_client: Client
) -> None:
    later = ("--run-at", "2099-01-01T00:00:00Z")
    out = _ok(cli("enqueue", "email", "--data", EMAIL, "--key", "weekly-1", *later))
    task_id = out.split()[2]
    await dev_client.get_workflow_handle(f"task-queue/{cli.queue}").terminate("oops")

    refused = _one_line_error(cli("enqueue", "email", "--data", EMAIL, "--key", "weekly-1"))
    assert refused == (
        f"error: queue '{cli.queue}' was stopped (terminated); `taskrunner queue recover "
        f"--queue {cli.queue}` starts it again with its tasks and keys"
    )
    recovered = _ok(cli("queue", "recover")).strip()
    assert recovered == f"queue '{cli.queue}' recovered: 1 pending, 0 failed (run 2)"
    again = _ok(cli("enqueue", "email", "--data", EMAIL, "--key", "weekly-1", *later))
    assert (
        again.strip() == f"Already enqueued (same key): task {task_id} (email) on queue {cli.queue}"
    )
    assert "is running; nothing to recover" in _one_line_error(cli("queue", "recover"))
