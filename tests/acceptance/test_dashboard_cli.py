"""``taskrunner dashboard`` as users run it: the installed CLI in a real terminal against the
dev server, answering over HTTP until Ctrl-C; its refusals are one line."""

from __future__ import annotations

import asyncio
import socket
import uuid
from pathlib import Path

import httpx
import pytest

from taskrunner.devserver import DevServer
from tests.helpers import free_port
from tests.helpers.cli import cli_env, run_cli
from tests.helpers.terminal import Terminal

pytestmark = pytest.mark.devserver


def dashboard_env(dev_server: DevServer, port: int, **env: str) -> dict[str, str]:
    return {
        "TEMPORAL_ADDRESS": dev_server.address,
        "TASKRUNNER_TASK_QUEUE": f"dash-{uuid.uuid4().hex[:8]}",
        "TASKRUNNER_DASHBOARD__PORT": str(port),
        **env,
    }


async def test_the_dashboard_command_serves_the_overview_until_ctrl_c(
    tmp_path: Path, dev_server: DevServer
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    terminal = Terminal(["dashboard"], tmp_path, cli_env(**dashboard_env(dev_server, port)))
    try:
        await asyncio.to_thread(terminal.read_until, f"Dashboard: {url} (Ctrl-C stops it)", 60)
        async with httpx.AsyncClient(timeout=30) as http:
            overview = await http.get(f"{url}/")
            queues = await http.get(f"{url}/queues", headers={"HX-Request": "true"})
        terminal.ctrl_c()
        code = await asyncio.to_thread(terminal.wait, 30)
    finally:
        terminal.kill()
    assert overview.status_code == 200, overview.text
    assert "<h1>Overview</h1>" in overview.text
    assert f"{dev_server.address} · namespace default" in overview.text
    assert "reachable" in overview.text
    assert queues.status_code == 200 and "<html" not in queues.text  # the live part alone
    assert code == 0, terminal.output
    assert "Dashboard stopped" in terminal.output
    assert "Traceback" not in terminal.output and "error" not in terminal.output.lower()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)


def test_beyond_loopback_without_a_token_the_command_refuses_in_one_line(
    tmp_path: Path, dev_server: DevServer
) -> None:
    env = dashboard_env(dev_server, free_port(), TASKRUNNER_DASHBOARD__HOST="0.0.0.0")
    result = run_cli("dashboard", cwd=tmp_path, **env)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(
        "error: the dashboard would listen on 0.0.0.0, beyond loopback, without a token; "
        "set TASKRUNNER_DASHBOARD_TOKEN"
    )
    assert result.stderr.count("\n") == 1 and not result.stdout


def test_a_taken_port_is_one_line_naming_dashboard_port(
    tmp_path: Path, dev_server: DevServer
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run_cli("dashboard", cwd=tmp_path, **dashboard_env(dev_server, port))
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.startswith(f"error: the dashboard cannot listen on 127.0.0.1:{port} (")
    assert "set dashboard.port (TASKRUNNER_DASHBOARD__PORT)" in result.stderr
    assert result.stderr.count("\n") == 1
