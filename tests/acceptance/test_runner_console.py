"""``taskrunner run`` as operated: its console, its ports, and one-shot commands beside it.

One runner serves the module (a real terminal, the real embedded server)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec
from tests.helpers import free_port
from tests.helpers.cli import TASKRUNNER, run_cli
from tests.helpers.terminal import Runner, Terminal, running_runner

pytestmark = pytest.mark.devserver


@pytest.fixture(scope="module")
def unreachable() -> str:
    """A source nothing answers, which the runner may fetch (data_sync.allowed_urls)."""
    return f"http://127.0.0.1:{free_port()}/records"


@pytest.fixture(scope="module")
async def runner(
    tmp_path_factory: pytest.TempPathFactory, unreachable: str
) -> AsyncIterator[Runner]:
    allowed = json.dumps([unreachable])
    async with running_runner(
        tmp_path_factory.mktemp("runner"), TASKRUNNER_DATA_SYNC__ALLOWED_URLS=allowed
    ) as up:
        yield up


async def test_a_failed_task_is_one_console_line_and_its_traceback_is_in_the_log(
    runner: Runner, unreachable: str
) -> None:
    queue = QueueClient(runner.client, runner.settings)
    spec = TaskSpec(type="dataSync", payload={"source": unreachable, "destination": "x"})
    task = await queue.enqueue(spec)
    line = f"✗ task {task.task_id} (dataSync) failed after 3 attempts: SourceUnavailable"
    await asyncio.to_thread(runner.terminal.read_until, line, 60)
    retries = [ln for ln in runner.terminal.output.splitlines() if f"↻ task {task.task_id}" in ln]
    assert len(retries) == 2, runner.terminal.output
    assert "Traceback" not in runner.terminal.output
    log = (runner.settings.data_dir / "taskrunner.log").read_text()
    assert "Traceback" in log and task.task_id in log


async def test_a_scheduled_run_that_ended_is_one_console_line(runner: Runner) -> None:
    trigger = await asyncio.to_thread(
        subprocess.run,
        [TASKRUNNER, "schedules", "trigger", "task-processor"],
        cwd=runner.settings.data_dir.parent,
        env=runner.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert trigger.returncode == 0, trigger
    await asyncio.to_thread(
        runner.terminal.read_until,
        "TaskProcessorWorkflow (schedule task-processor) completed in",
        60,
    )


async def test_a_second_runner_on_a_taken_port_is_refused_in_one_line(
    runner: Runner, tmp_path: Path
) -> None:
    port = str(runner.settings.server_port)
    second = run_cli("run", cwd=tmp_path, TASKRUNNER_SERVER_PORT=port)
    assert second.returncode == 2, second
    assert second.stderr.count("\n") == 1, second.stderr
    assert f"server port {port} on 127.0.0.1 is taken: a Temporal server answers there" in (
        second.stderr
    )
    assert f"TEMPORAL_ADDRESS=127.0.0.1:{port}" in second.stderr
    assert "SCHEDULED TASK RUNNER" not in second.stdout
    assert not (tmp_path / ".taskrunner" / "temporal.db").exists()


def test_a_port_held_by_something_else_is_named_so(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = str(holder.getsockname()[1])
        result = run_cli("run", cwd=tmp_path, TASKRUNNER_SERVER_PORT=port)
    assert result.returncode == 2, result
    assert result.stderr == (
        f"error: server port {port} on 127.0.0.1 is taken: something that is not a Temporal "
        "server holds it; set server_port (TASKRUNNER_SERVER_PORT) to start another server\n"
    )


async def test_one_shot_health_uses_its_own_settings_and_no_runner_worker(
    runner: Runner, tmp_path: Path
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        config = tmp_path / "probes.toml"
        config.write_text(
            "[[health.probes]]\nkind = 'tcp'\nname = 'only-mine'\nhost = '127.0.0.1'\n"
            f"port = {listener.getsockname()[1]}\n"
        )
        env = {**runner.env, "TASKRUNNER_CONFIG": str(config)}
        # The runner's own data dir: the command finds the runner's server up and joins it.
        health = await asyncio.to_thread(
            subprocess.run,
            [TASKRUNNER, "health", "--no-notify"],
            cwd=runner.settings.data_dir.parent,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert health.returncode == 0, health
    assert "only-mine" in health.stdout and "tcp" in health.stdout
    pollers = await runner_pollers(runner)
    runner_pid = str(runner.terminal.pid)
    assert pollers and all(identity.startswith(f"{runner_pid}@") for identity in pollers), pollers


async def runner_pollers(runner: Runner) -> set[str]:
    """Identities of every worker that polled the runner's task queue (both kinds)."""
    identities = set()
    for kind in (TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY):
        described = await runner.client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=runner.client.namespace,
                task_queue=TaskQueue(name=runner.settings.task_queue),
                task_queue_type=kind,
            )
        )
        identities |= {poller.identity for poller in described.pollers}
    return identities


def test_ctrl_c_while_the_embedded_server_starts_is_one_line(tmp_path: Path) -> None:
    from tests.helpers.cli import cli_env

    env = cli_env(TASKRUNNER_SERVER_PORT=str(free_port()), TASKRUNNER_UI_PORT=str(free_port()))
    term = Terminal(["queue", "stats"], tmp_path, env)
    try:
        term.read(0.5)
        term.ctrl_c()
        code = term.wait(60)
    finally:
        term.kill()
    assert code == 130, term.output
    assert "Traceback" not in term.output
    assert term.output.strip().splitlines()[-1].endswith("interrupted (Ctrl-C)"), term.output


async def test_the_banner_names_the_dashboard_and_the_metrics_and_both_answer(
    runner: Runner,
) -> None:
    import re

    import httpx

    output = runner.terminal.output
    dashboard = re.search(r"Dashboard:\s+(http://\S+)", output)
    metrics = re.search(r"Metrics:\s+(http://\S+)", output)
    assert dashboard and metrics, output
    async with httpx.AsyncClient(timeout=10) as http:
        page = await http.get(dashboard.group(1) + "/")
        scraped = await http.get(metrics.group(1))
    assert page.status_code == 200 and "Overview" in page.text
    assert scraped.status_code == 200 and "temporal_" in scraped.text
