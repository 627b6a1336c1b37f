"""The CLI as users run it: real subprocesses, one-line errors, real exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from taskrunner.devserver import DevServer
from tests.helpers import free_port
from tests.helpers.cli import ROOT, cli_env, popen_cli, run_cli


def test_every_command_has_help(tmp_path: Path) -> None:
    for command in ["run", "worker", "health", "schedules"]:
        result = run_cli(command, "--help", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "usage: taskrunner" in result.stdout


def test_bad_setting_gives_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("health", cwd=tmp_path, TASKRUNNER_HEALTH__CPU_THRESHOLD="lots")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: invalid setting TASKRUNNER_HEALTH__CPU_THRESHOLD (got 'lots'): "
        "Input should be a valid number, unable to parse string as a number"
    ]
    assert "Traceback" not in result.stderr


def test_unreachable_temporal_address_gives_one_line(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    result = run_cli("health", cwd=tmp_path, TEMPORAL_ADDRESS=address)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: cannot reach Temporal at {address} (")
    assert "TEMPORAL_ADDRESS" in lines[0]


def test_hanging_temporal_address_times_out_with_one_line(tmp_path: Path) -> None:
    # A listener that never speaks gRPC: connect must give up, not hang.
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        address = f"127.0.0.1:{sock.getsockname()[1]}"
        result = run_cli(
            "health", cwd=tmp_path, TEMPORAL_ADDRESS=address, TASKRUNNER_CONNECT_TIMEOUT_SECONDS="2"
        )
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"cannot reach Temporal at {address}" in result.stderr


def test_health_command_prints_the_seed_report(tmp_path: Path, dev_server: DevServer) -> None:
    result = run_cli(
        "health",
        cwd=tmp_path,
        TEMPORAL_ADDRESS=dev_server.address,
        TASKRUNNER_TASK_QUEUE=f"cli-{free_port()}",
        TASKRUNNER_HEALTH__PROBES='[{"kind": "redis", "name": "cache", "url": "redis://127.0.0.1:6379"}]',
    )
    out = result.stdout
    assert "System Health: " in out
    assert "Metrics: { cpu: " in out and "disk: " in out
    assert "Services: ✓ All up" in out
    assert "Status: { cache: 'up' }" in out
    healthy = "System Health: ✓ Healthy" in out
    assert result.returncode == (0 if healthy else 1), result.stderr


def test_health_with_a_service_down_says_so_first_and_alerts_once(
    tmp_path: Path, dev_server: DevServer
) -> None:
    closed = free_port()
    result = run_cli(
        "health",
        cwd=tmp_path,
        TEMPORAL_ADDRESS=dev_server.address,
        TASKRUNNER_HEALTH__CPU_THRESHOLD="100",
        TASKRUNNER_HEALTH__MEMORY_THRESHOLD="100",
        TASKRUNNER_HEALTH__DISK_THRESHOLD="100",
        TASKRUNNER_HEALTH__PROBES=f'[{{"kind": "tcp", "name": "db", "host": "127.0.0.1", "port": {closed}}}]',
    )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "System Health: ✗ Unhealthy: service db is DOWN", result.stdout
    # The console channel's alert, once, after the report (not before it, not twice).
    assert result.stdout.count("System health alert:") == 1, result.stdout
    assert lines[-3:-1] == ["📧 [CRITICAL] System health alert:", "- Some services are down:"]


def _children(pid: int) -> list[int]:
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _start_run(tmp_path: Path, port: int, ui_port: int) -> tuple[object, str]:
    proc = popen_cli(
        "run",
        cwd=tmp_path,
        TASKRUNNER_SERVER_PORT=str(port),
        TASKRUNNER_UI_PORT=str(ui_port),
        TASKRUNNER_TASK_QUEUE=f"run-{port}",
    )
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + 90
    while "Press Ctrl-C" not in seen:
        line = proc.stdout.readline()
        if not line or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(
                f"taskrunner run did not start: {seen}{proc.stderr.read() if proc.stderr else ''}"
            )
        seen += line
    return proc, seen


def test_run_serves_the_ui_and_ctrl_c_leaves_no_process(tmp_path: Path) -> None:
    port, ui_port = free_port(), free_port()
    proc, banner = _start_run(tmp_path, port, ui_port)
    assert isinstance(proc, __import__("subprocess").Popen)
    assert f"Web UI:     http://127.0.0.1:{ui_port}" in banner
    children = _children(proc.pid)
    assert children, "the embedded server should be a child process"
    with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/", timeout=10) as page:
        assert page.status == 200
    assert (tmp_path / ".taskrunner" / "temporal.db").is_file()

    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130  # the shell's convention for Ctrl-C
    time.sleep(0.5)
    assert not [
        pid
        for pid in children
        if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    ]


async def test_restart_keeps_earlier_history(tmp_path: Path) -> None:
    """The embedded server's SQLite file keeps workflows across restarts."""
    from temporalio.client import Client

    port = free_port()
    data = tmp_path / "data"
    with DevServer(data, port=port, ui_port=None):
        client = await Client.connect(f"127.0.0.1:{port}")
        await client.start_workflow("NoSuchWorkflow", id="kept-across-restart", task_queue="nobody")
    with DevServer(data, port=port, ui_port=None):
        client = await Client.connect(f"127.0.0.1:{port}")
        description = await client.get_workflow_handle("kept-across-restart").describe()
    assert description.workflow_type == "NoSuchWorkflow"


def test_broken_settings_file_gives_one_line(tmp_path: Path) -> None:
    config = tmp_path / "taskrunner.toml"
    config.write_text("[health\ncpu_threshold = 80\n")
    result = run_cli("health", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot read settings"), result.stderr


def test_unknown_key_in_the_settings_file_gives_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "taskrunner.toml").write_text("[health]\ncpu_treshold = 50\n")
    # No server runs on this port: the settings error must come first.
    result = run_cli("health", cwd=tmp_path, TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown setting health.cpu_treshold: did you mean cpu_threshold?"
    ]


def test_invalid_cron_setting_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    # No server runs on this port: the cron error must come first, from the settings.
    result = run_cli(
        "schedules",
        "apply",
        cwd=tmp_path,
        TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",
        TASKRUNNER_SCHEDULES__MAINTENANCE__CRON='["0 2 * * 8"]',
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: invalid setting TASKRUNNER_SCHEDULES__MAINTENANCE__CRON: "
        "Value error, invalid cron '0 2 * * 8': day of week '8' is out of range 0-7"
    ]


def test_unknown_time_zone_is_refused(tmp_path: Path) -> None:
    result = run_cli("schedules", "apply", cwd=tmp_path, TASKRUNNER_TIMEZONE="Europe/Berlinn")
    assert result.returncode == 2
    assert "unknown time zone 'Europe/Berlinn'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unknown_schedule_name_gives_one_line(tmp_path: Path, dev_server: DevServer) -> None:
    result = run_cli(
        "schedules", "trigger", "nightly", cwd=tmp_path, TEMPORAL_ADDRESS=dev_server.address
    )
    assert result.returncode == 2
    assert result.stderr.startswith(
        "error: unknown schedule 'nightly'; known schedules: health-monitor"
    )
    assert len(result.stderr.strip().splitlines()) == 1


def test_schedules_apply_and_list_from_the_cli(tmp_path: Path, dev_server: DevServer) -> None:
    env = {
        "TEMPORAL_ADDRESS": dev_server.address,
        "TASKRUNNER_SCHEDULES__ID_PREFIX": f"cli{free_port()}-",
        "TASKRUNNER_TIMEZONE": "America/New_York",
    }
    applied = run_cli("schedules", "apply", cwd=tmp_path, **env)
    assert applied.returncode == 0, applied.stderr
    assert "created" in applied.stdout
    again = run_cli("schedules", "apply", cwd=tmp_path, **env)
    assert again.returncode == 0 and "created" not in again.stdout
    listed = run_cli("schedules", "list", cwd=tmp_path, **env)
    assert listed.returncode == 0, listed.stderr
    assert "health-monitor  [active]" in listed.stdout
    assert "*/5 * * * *  (America/New_York)" in listed.stdout
    assert "next runs: " in listed.stdout and ("EST" in listed.stdout or "EDT" in listed.stdout)
    bad = run_cli(
        "schedules",
        "backfill",
        "health-monitor",
        "--start",
        "yesterday",
        "--end",
        "now",
        cwd=tmp_path,
        **env,
    )
    assert bad.returncode == 2
    assert (
        bad.stderr.strip()
        == "error: --start 'yesterday' is not an ISO time such as 2026-03-29T00:00"
    )


def test_output_into_a_closed_pipe_ends_quietly(tmp_path: Path, dev_server: DevServer) -> None:
    # `taskrunner schedules list | true` once the reader is gone: no traceback, status 141.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, str(ROOT / "starter.py"), "schedules", "list"],
            cwd=tmp_path,
            env=cli_env(TEMPORAL_ADDRESS=dev_server.address),
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 141
    assert done.stderr == ""


def test_a_temporal_profile_file_names_the_server_without_temporal_address(
    tmp_path: Path, dev_server: DevServer
) -> None:
    profile = tmp_path / "temporal.toml"
    profile.write_text(f'[profile.default]\naddress = "{dev_server.address}"\n')
    result = run_cli("health", cwd=tmp_path, TEMPORAL_CONFIG_FILE=str(profile))
    assert result.returncode in (0, 1), result.stderr  # 1: the machine's own readings alarm
    assert "System Health: " in result.stdout
    assert not (tmp_path / ".taskrunner" / "temporal.db").exists()  # no embedded server
