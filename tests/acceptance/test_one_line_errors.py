"""Every failure of the installed CLI ends in one line with the right status, never a traceback."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from taskrunner.devserver import DevServer
from tests.helpers import free_port
from tests.helpers.cli import TASKRUNNER, cli_env, popen_cli, run_cli
from tests.helpers.terminal import Terminal

pytestmark = pytest.mark.devserver

EMAIL = '{"recipient": "a@example.com", "subject": "s", "body": "b"}'


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, result
    assert result.stderr.count("\n") == 1 and text in result.stderr, result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_a_data_dir_under_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not a folder")
    result = run_cli("queue", "stats", cwd=tmp_path, TASKRUNNER_DATA_DIR="plain/data")
    assert_one_line(result, 2, "data dir plain/data cannot be created: plain is a file")


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder every user may enter (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="taskrunner-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


@pytest.mark.parametrize("mode", ["permission", "read-only"])
def test_an_unwritable_data_dir(open_folder: Path, mode: str) -> None:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) to make a real read-only or unwritable folder")
    data = open_folder / "data"
    data.mkdir()
    if mode == "read-only":  # a read-only bind mount, in a mount namespace of its own
        ro = f"mount --bind {data} {data} && mount -o remount,ro,bind {data} && "
        why = "not writable (read-only file system)"
    else:  # no write permission, and the CLI runs without root's override of it
        data.chmod(0o555)
        ro = "exec setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "
        why = "not writable (permission denied)"
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", f'{ro}"{TASKRUNNER}" queue stats'],
        cwd=open_folder,
        env=cli_env(TASKRUNNER_DATA_DIR=str(data)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_one_line(result, 2, f"data dir {data} is {why}")


@pytest.fixture
def lone_server(tmp_path: Path) -> Iterator[DevServer]:
    """A server no worker polls: a request to a queue there waits (until the test acts)."""
    with DevServer(tmp_path / "server", port=free_port(), ui_port=None) as server:
        yield server


def test_ctrl_c_during_an_enqueue_is_one_line(tmp_path: Path, lone_server: DevServer) -> None:
    env = cli_env(TEMPORAL_ADDRESS=lone_server.address)
    term = Terminal(["enqueue", "email", "--data", EMAIL], tmp_path, env)
    try:
        time.sleep(4)  # loaded, connected, and waiting for a worker to take the request
        term.ctrl_c()
        code = term.wait(30)
    finally:
        term.kill()
    assert code == 130, term.output
    assert "Traceback" not in term.output and "CancelledError" not in term.output
    assert term.output.strip().splitlines()[-1].endswith("interrupted (Ctrl-C)"), term.output


def test_the_server_dying_during_a_command(tmp_path: Path, lone_server: DevServer) -> None:
    waiting = popen_cli(
        "enqueue", "email", "--data", EMAIL, cwd=tmp_path, TEMPORAL_ADDRESS=lone_server.address
    )
    time.sleep(4)
    lone_server.stop(signal.SIGKILL)
    out, err = waiting.communicate(timeout=90)
    assert waiting.returncode == 2, (out, err)
    warning, error = err.splitlines()
    assert warning.startswith("warning: no worker polls task queue 'taskrunner'; the request waits")
    assert error.startswith("error: the Temporal server stopped answering")
    assert "Traceback" not in out + err


@pytest.mark.parametrize("reader", ["head -1", "true"])
def test_output_into_a_closed_pipe_is_quiet(
    tmp_path: Path, dev_server: DevServer, reader: str
) -> None:
    env = cli_env(TEMPORAL_ADDRESS=dev_server.address)
    result = subprocess.run(
        [
            "bash",
            "-c",
            f'"{TASKRUNNER}" schedules list | {reader}; echo "status=${{PIPESTATUS[0]}}"',
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stderr == "", result.stderr
    status = result.stdout.strip().splitlines()[-1]
    assert status in ("status=0", "status=141"), result.stdout
