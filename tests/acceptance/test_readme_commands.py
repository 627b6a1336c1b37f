"""The README's command examples, run as written against a real runner: the README stays true.

Every line of a fenced block that starts with ``taskrunner`` is run through the installed
CLI, in the README's order, beside a ``taskrunner run`` in a terminal. A line with a
placeholder (``<id>``, ``a | b``, ``[--force]``) is run in the concrete forms listed in
EXPANDED; a new example with a placeholder and no entry there fails this test.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec, TaskStatus
from tests.helpers import assert_eventually
from tests.helpers.cli import TASKRUNNER
from tests.helpers.terminal import Runner, running_runner

pytestmark = pytest.mark.devserver

README = Path(__file__).resolve().parents[2] / "README.md"
EXPANDED = {
    "taskrunner queue show <id>": ["taskrunner queue show {task}"],
    "taskrunner queue retry <id> | taskrunner queue retry --all": [
        "taskrunner queue retry {failed}",
        "taskrunner queue retry --all",
    ],
    "taskrunner queue cancel <id>": ["taskrunner queue cancel {pending}"],
    "taskrunner queue purge | pause | resume": [
        "taskrunner queue pause",
        "taskrunner queue resume",
        "taskrunner queue purge",
    ],
    "taskrunner queue recover [--force]": ["taskrunner queue recover --force"],
    # Without a terminal, delete needs --yes (the README says so on the same line).
    "taskrunner schedules delete health-monitor": [
        "taskrunner schedules delete health-monitor --yes"
    ],
}
EXIT_STATUS = {
    # The queue is up and running: recover (even --force) has nothing to rebuild.
    "taskrunner queue recover --force": None,
}
"""Expected exit status where it is not 0 (None: any status, but one line and no traceback)."""
PAYLOAD = {"recipient": "file@example.com", "subject": "From a file", "body": "@payload.json"}


def readme_commands() -> list[str]:
    """Each ``taskrunner`` line of the README's code blocks, continuations joined, comments cut."""
    commands, in_block, pending = [], False, ""
    for line in README.read_text().splitlines():
        if line.startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            continue
        line = pending + line.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1]
            continue
        if line.startswith("taskrunner "):
            commands.append(re.sub(r"\s+#\s.*$", "", line).strip())
    return commands


def test_the_readme_has_command_examples() -> None:
    commands = readme_commands()
    assert len(commands) >= 20, commands
    assert "taskrunner queue stats" in commands


@pytest.fixture(scope="module")
async def runner(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Runner]:
    # The examples' dataSync sources are https URLs: allowed as the README's reader would.
    allowed = json.dumps(["https://"])
    async with running_runner(
        tmp_path_factory.mktemp("readme"), TASKRUNNER_DATA_SYNC__ALLOWED_URLS=allowed
    ) as up:
        yield up


async def test_every_readme_command_runs_as_documented(runner: Runner) -> None:
    cwd = runner.settings.data_dir.parent
    (cwd / "payload.json").write_text(json.dumps(PAYLOAD))
    ids: dict[str, str] = {}
    for example in readme_commands():
        forms = EXPANDED.get(example, [example])
        for form in forms:
            if re.search(r"\{(task|failed|pending)\}", form):
                ids = ids or await known_ids(runner)
            command = form
            for name, task_id in ids.items():
                command = command.replace(f"{{{name}}}", task_id)
            assert not re.search(r"<\w+>|\[--|\.\.\.\"?$", command), f"placeholder: {example}"
            result = await asyncio.to_thread(run, command, runner, cwd)
            expected = EXIT_STATUS.get(form, 0)
            said = f"{command}\n{result.stdout}{result.stderr}"
            assert "Traceback" not in result.stdout + result.stderr, said
            if expected is not None:
                assert result.returncode == expected, said
            if result.returncode != 0:
                assert result.stderr.count("\n") == 1, said


def run(command: str, runner: Runner, cwd: Path) -> subprocess.CompletedProcess[str]:
    argv = shlex.split(command)
    return subprocess.run(
        [TASKRUNNER, *argv[1:]],
        cwd=cwd,
        env=runner.env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
    )


async def known_ids(runner: Runner) -> dict[str, str]:
    """A task the examples made, one still pending (their dataSync due in 2030), and a
    failed one (made here: a dataSync of a file that is not there)."""
    queue = QueueClient(runner.client, runner.settings)
    tasks = await queue.list(None, 100)
    pending = await queue.list(TaskStatus.PENDING, 1)
    assert tasks and pending, "the README's enqueue examples made no (pending) task"
    source = str(runner.settings.imports_dir / "missing.json")
    doomed = await queue.enqueue(
        TaskSpec(type="dataSync", payload={"source": source, "destination": "nowhere"})
    )

    async def failed() -> None:
        assert (await queue.show(doomed.task_id)).status is TaskStatus.FAILED

    await assert_eventually(failed, timeout=60)
    return {"task": tasks[0].id, "pending": pending[0].id, "failed": doomed.task_id}
