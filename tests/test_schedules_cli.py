"""``taskrunner schedules`` as users run it: trigger names its run, delete asks first."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from temporalio.client import Client

from taskrunner.cli.schedules import render_triggered
from taskrunner.devserver import DevServer
from taskrunner.schedules.operations import Triggered
from tests.helpers import free_port
from tests.helpers.cli import run_cli
from tests.helpers.schedules import answered_on_a_terminal, schedule_exists
from tests.helpers.terminal import Terminal

pytestmark = pytest.mark.devserver


@pytest.fixture
def env(dev_server: DevServer, tmp_path: Path) -> Any:
    """Schedules of this test's own (an id prefix) on the session's dev server; gone after."""
    prefix = f"cli{free_port()}-"
    values = {
        "TEMPORAL_ADDRESS": dev_server.address,
        "TASKRUNNER_SCHEDULES__ID_PREFIX": prefix,
        "TASKRUNNER_TASK_QUEUE": f"sched-{prefix}",
    }
    applied = run_cli("schedules", "apply", cwd=tmp_path, **values)
    assert applied.returncode == 0, applied.stderr
    yield values
    for name in ("health-monitor", "task-processor", "maintenance"):
        run_cli("schedules", "delete", name, "--yes", cwd=tmp_path, **values)


async def test_trigger_prints_the_workflow_id_it_started(
    tmp_path: Path, env: dict[str, str], dev_client: Client
) -> None:
    result = run_cli("schedules", "trigger", "health-monitor", cwd=tmp_path, **env)
    assert result.returncode == 0, result.stderr
    first, cli_line = result.stdout.splitlines()[:2]
    found = re.fullmatch(r"triggered health-monitor: started workflow (\S+)", first)
    assert found, result.stdout
    workflow_id = found.group(1)
    assert cli_line == (
        f"  CLI:    temporal workflow describe --workflow-id {workflow_id} "
        f"--address {env['TEMPORAL_ADDRESS']} --namespace default"
    )
    handle = dev_client.get_workflow_handle(workflow_id)
    assert (await handle.describe()).workflow_type == "HealthMonitorWorkflow"
    await handle.terminate("test over")  # no worker polls this test's task queue


def test_trigger_names_the_run_s_web_ui_page() -> None:
    started = Triggered(workflow_id="health-monitor/run-2026-12-01T15:12:17Z", run_id="r-1")
    service = SimpleNamespace(config=SimpleNamespace(target_host="127.0.0.1:7233"))
    client = cast(Client, SimpleNamespace(namespace="default", service_client=service))
    text = render_triggered("health-monitor", started, client, "http://127.0.0.1:8233", False)
    assert text.splitlines()[1] == (
        "  web UI: http://127.0.0.1:8233/namespaces/default/workflows/"
        "health-monitor%2Frun-2026-12-01T15%3A12%3A17Z/r-1/history"
    )
    skipped = render_triggered("health-monitor", Triggered(skipped=True), client, None, False)
    assert (
        skipped == "triggered health-monitor, but it was skipped: its previous run is still going"
    )


def test_delete_without_a_terminal_needs_yes(tmp_path: Path) -> None:
    # No server runs at this address: the refusal comes before anything is sent.
    result = run_cli(
        "schedules",
        "delete",
        "health-monitor",
        cwd=tmp_path,
        stdin="",
        TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: schedules delete health-monitor asks for confirmation: add --yes to delete"
    ]


def _delete_on_a_terminal(tmp_path: Path, env: dict[str, str], answer: bytes) -> Terminal:
    return answered_on_a_terminal(["schedules", "delete", "maintenance"], tmp_path, env, answer)


async def test_delete_asks_on_a_terminal_and_keeps_the_schedule_unless_told_yes(
    tmp_path: Path, env: dict[str, str], dev_client: Client
) -> None:
    schedule_id = env["TASKRUNNER_SCHEDULES__ID_PREFIX"] + "maintenance"
    kept = _delete_on_a_terminal(tmp_path, env, b"n\n")
    assert "Delete schedule maintenance?" in kept.output
    assert kept.code == 1 and "kept maintenance" in kept.output
    assert await schedule_exists(dev_client, schedule_id)

    deleted = _delete_on_a_terminal(tmp_path, env, b"y\n")
    assert deleted.code == 0 and "deleted maintenance" in deleted.output, deleted.output
    assert not await schedule_exists(dev_client, schedule_id)
