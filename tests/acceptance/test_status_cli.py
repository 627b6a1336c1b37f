"""``taskrunner status`` as users run it: the installed CLI against the dev server, a
server that is not there, and ``--watch`` in a real terminal."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from taskrunner.cli.status import CLEAR_SCREEN
from taskrunner.devserver import DevServer, port_open
from tests.helpers import free_port
from tests.helpers.cli import cli_env, run_cli
from tests.helpers.status import known_state, status_env, status_settings
from tests.helpers.terminal import Terminal

pytestmark = pytest.mark.devserver


async def test_status_json_and_text_show_the_known_state(
    tmp_path: Path, dev_server: DevServer, dev_client: Client, make_settings: Any, make_worker: Any
) -> None:
    settings = status_settings(make_settings)
    env = status_env(settings, dev_server.address)
    async with known_state(dev_client, settings, make_worker) as known:
        as_json = await asyncio.to_thread(run_cli, "status", "--json", cwd=tmp_path, **env)
        as_text = await asyncio.to_thread(run_cli, "status", cwd=tmp_path, **env)

    assert as_json.returncode == 0, as_json.stderr
    facts = json.loads(as_json.stdout)
    assert facts["server"]["reachable"] is True and facts["errors"] == {}
    assert [w["identity"] for w in facts["workers"]] == [settings.worker.identity]
    [queue] = facts["queues"]
    stats = queue["stats"]
    assert queue["name"] == settings.queue.name
    counts = {k: stats[k] for k in ("completed", "failed", "pending", "running", "paused")}
    assert counts == {"completed": 1, "failed": 1, "pending": 1, "running": 0, "paused": True}
    assert queue["completed_per_minute"] == 0.2
    health = next(s for s in facts["schedules"] if s["name"] == "health-monitor")
    assert (health["last_result"], health["last_workflow_id"]) == ("completed", known.health_id)
    assert facts["health"]["healthy"] is True
    assert [(m["outcome"]["target"], m["outcome"]["status"]) for m in facts["maintenance"]] == [
        (settings.database.name, "completed")
    ]
    assert ("status-test", "disk") in {(a["source"], a["alert"]) for a in facts["alerts"]}

    assert as_text.returncode == 0, as_text.stderr
    screen = as_text.stdout
    assert "Traceback" not in screen + as_text.stderr
    assert re.search(
        rf"^  {settings.queue.name}\s+paused\s+1\s+0\s+1\s+1\s+0\s+0\.2$", screen, re.M
    )
    assert re.search(rf"^  {settings.worker.identity}\s+workflow, activity\s", screen, re.M)
    assert re.search(r"^  health-monitor\s+schedule\s+active\s+.*\scompleted\s", screen, re.M)
    assert re.search(r"^  status-test/disk\s+critical\s", screen, re.M)


def test_unreachable_server_is_one_line_and_reachable_false(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"  # nobody listens there
    env = {"TEMPORAL_ADDRESS": address, "TASKRUNNER_DATA_DIR": str(tmp_path / "data")}
    text = run_cli("status", cwd=tmp_path, **env)
    assert text.returncode == 1 and text.stdout == ""
    [line] = text.stderr.splitlines()
    assert line.startswith(f"error: cannot reach Temporal at {address} ("), line
    assert "TEMPORAL_ADDRESS" in line

    as_json = run_cli("status", "--json", cwd=tmp_path, **env)
    assert as_json.returncode == 1, as_json.stderr
    facts = json.loads(as_json.stdout)
    assert facts["server"]["reachable"] is False and facts["server"]["address"] == address
    assert facts["server"]["error"] == line.removeprefix("error: ")
    assert facts["alerts"] is None  # no alert state file in this data dir


def test_without_a_server_status_starts_none(tmp_path: Path) -> None:
    port = free_port()
    env = {"TASKRUNNER_SERVER_PORT": str(port), "TASKRUNNER_DATA_DIR": str(tmp_path / "data")}
    result = run_cli("status", cwd=tmp_path, **env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr == (
        f"error: the embedded Temporal server is not running (nothing answers on 127.0.0.1:"
        f"{port}); start it with taskrunner run, or set TEMPORAL_ADDRESS\n"
    )
    assert not port_open("127.0.0.1", port)  # it looked; it started nothing


def test_watch_redraws_until_ctrl_c_then_exits_0(tmp_path: Path, dev_server: DevServer) -> None:
    env = cli_env(TEMPORAL_ADDRESS=dev_server.address, TASKRUNNER_DATA_DIR=str(tmp_path / "d"))
    terminal = Terminal(["status", "--watch", "--interval", "0.3"], tmp_path, env)
    try:
        terminal.read_until("Server ", timeout=60)
        for _ in range(100):  # at most about 20 s
            if terminal.output.count(CLEAR_SCREEN) >= 2 and terminal.output.endswith("\n"):
                break
            terminal.read(0.2)
        assert terminal.output.count(CLEAR_SCREEN) >= 2, terminal.output
        assert terminal.output.count("Every 0.3s (Ctrl-C stops)") >= 2
        terminal.ctrl_c()
        assert terminal.wait(30) == 0, terminal.output
    finally:
        terminal.kill()
    assert "Traceback" not in terminal.output
    assert "interrupted" not in terminal.output
