"""The queue CLI as users run it: real subprocesses against the dev server."""

from __future__ import annotations

import re
import signal
import socket
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from taskrunner.devserver import DevServer
from tests.helpers.cli import popen_cli, run_cli

EMAIL = '{"recipient": "admin@example.com", "subject": "Daily Report"}'


@pytest.fixture
def cli(tmp_path: Path, dev_server: DevServer) -> Any:
    """Run ``taskrunner`` against the dev server, on a queue and task queue of this test."""
    queue = f"cli-{uuid.uuid4().hex[:8]}"

    def run(*args: str) -> Any:
        return run_cli(
            *args,
            "--queue",
            queue,
            cwd=tmp_path,
            TEMPORAL_ADDRESS=dev_server.address,
            TASKRUNNER_TASK_QUEUE=f"tq-{queue}",
        )

    run.queue = queue  # type: ignore[attr-defined]
    return run


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
    assert "run at:   2099-01-01 00:00:00" in shown
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


def test_commands_on_a_queue_that_does_not_exist_are_one_line(cli: Any) -> None:
    for args in (("queue", "show", "abc"), ("queue", "stats"), ("queue", "retry", "abc")):
        line = _one_line_error(cli(*args))
        assert line == f"error: queue '{cli.queue}' does not exist yet; enqueue a task to create it"


def test_drain_returns_when_only_future_tasks_remain(cli: Any) -> None:
    _ok(cli("enqueue", "email", "--data", EMAIL, "--run-at", "2099-01-01T00:00:00Z"))
    out = _ok(cli("queue", "drain"))
    assert "Task processing complete: 0 tasks processed" in out
    assert "1 task(s) wait for a later time (run_at or a retry backoff)" in out


def test_ctrl_c_ends_a_waiting_drain_in_one_line(
    cli: Any, tmp_path: Path, dev_server: DevServer
) -> None:
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
            "TASKRUNNER_TASK_QUEUE": f"tq-{cli.queue}",
        }
        args = ["--queue", cli.queue]
        _ok(run_cli("enqueue", "email", "--data", EMAIL, *args, cwd=tmp_path, **queue_env))
        drain = popen_cli("queue", "drain", *args, cwd=tmp_path, **queue_env, **smtp)
        try:
            assert drain.stdout is not None
            first = drain.stdout.readline()  # the first progress line: the drain waits
            assert first.startswith("draining: 0 finished"), first
            drain.send_signal(signal.SIGINT)
            code = drain.wait(timeout=60)
        finally:
            drain.kill()
        stderr = drain.stderr.read() if drain.stderr else ""
    assert code == 130
    assert stderr.strip().splitlines() == [
        f"drain interrupted; queue '{cli.queue}' keeps processing "
        f"(see: taskrunner queue stats --queue {cli.queue})"
    ], stderr


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
