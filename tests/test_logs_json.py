"""``logs.format = "json"``: one JSON object per log line, with the task a line is about."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.client import Client

from taskrunner.cli import logs
from taskrunner.devserver import DevServer
from taskrunner.observability.task_context import current_task, task_extra, task_fields
from taskrunner.settings.observability import LogSettings
from tests.helpers import assert_eventually
from tests.helpers.cli import popen_cli, run_cli
from tests.helpers.cli_worker import polled

TASK_FIELDS = {"task_id", "queue", "type", "attempt"}


def formatted(message: str, *args: Any, **extra: Any) -> dict[str, Any]:
    record = logging.LogRecord("taskrunner.x", logging.WARNING, __file__, 1, message, args, None)
    record.__dict__.update(extra)
    line = logs.JsonLines().format(record)
    assert "\n" not in line
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def test_a_line_is_one_object_with_time_level_logger_and_message() -> None:
    line = formatted("disk at %d%%", 93)
    assert line.keys() == {"time", "level", "logger", "message"}
    assert (line["level"], line["logger"], line["message"]) == (
        "WARNING",
        "taskrunner.x",
        "disk at 93%",
    )
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", line["time"]), line["time"]


def test_a_line_about_a_task_carries_its_id_queue_type_and_attempt() -> None:
    line = formatted(
        "✓ Task abc completed",
        **task_extra("abc", "emails", "email", 2),
        temporal_workflow={"workflow_id": "task-queue/emails", "run_id": "r1", "attempt": 1},
    )
    assert {k: line[k] for k in TASK_FIELDS} == task_fields("abc", "emails", "email", 2)
    assert line["workflow_id"] == "task-queue/emails" and line["run_id"] == "r1"


def test_a_line_logged_inside_a_task_activity_carries_the_running_task() -> None:
    token = current_task.set(task_fields("t1", "reports", "report", 3))
    try:
        line = formatted("rendering", temporal_activity={"activity_id": "t1-3", "attempt": 1})
    finally:
        current_task.reset(token)
    assert (line["task_id"], line["queue"], line["type"], line["attempt"]) == (
        "t1",
        "reports",
        "report",
        3,
    )
    assert line["activity_id"] == "t1-3"
    assert "task_id" not in formatted("after the task")


def test_a_traceback_stays_inside_its_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = json.loads(logs.JsonLines().format(record))
    assert line["message"] == "failed" and "ValueError: boom" in line["traceback"]


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure() replaces the root logger's handlers: give pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    on_message = (
        workflow.logger.workflow_info_on_message,
        activity.logger.activity_info_on_message,
    )
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    workflow.logger.workflow_info_on_message, activity.logger.activity_info_on_message = on_message


def test_json_is_for_the_long_running_commands_and_goes_to_the_file_too(
    tmp_path: Path, restored_logging: None, capsys: Any
) -> None:
    log_file = tmp_path / "taskrunner.log"
    logs.configure(False, log_file, events=True, logs=LogSettings(format="json", level="INFO"))
    logging.getLogger("taskrunner.y").info("hello %s", "there")
    assert json.loads(capsys.readouterr().err)["message"] == "hello there"
    assert json.loads(log_file.read_text())["message"] == "hello there"
    assert not workflow.logger.workflow_info_on_message  # its context is in fields instead

    logs.configure(False, None, events=False, logs=LogSettings(format="json"))
    logging.getLogger("taskrunner.y").warning("one-shot")
    assert capsys.readouterr().err == "warning: taskrunner.y: one-shot\n"


@pytest.mark.devserver
async def test_the_worker_writes_json_lines_about_a_task(
    tmp_path: Path, dev_server: DevServer, dev_client: Client
) -> None:
    env = {
        "TEMPORAL_ADDRESS": dev_server.address,
        "TASKRUNNER_TASK_QUEUE": f"json-{uuid.uuid4().hex[:8]}",
        "TASKRUNNER_QUEUE__NAME": f"json-{uuid.uuid4().hex[:8]}",
        "TASKRUNNER_TASK_MODULES": '["tests.helpers.job_tasks"]',
        "TASKRUNNER_LOGS__FORMAT": "json",
        "TASKRUNNER_METRICS__ENABLED": "false",
    }
    worker = popen_cli("worker", cwd=tmp_path, **env)
    try:
        await polled(dev_client, env["TASKRUNNER_TASK_QUEUE"])
        enqueued = await asyncio.to_thread(
            run_cli, "enqueue", "tally", "--data", '{"n": 7}', cwd=tmp_path, **env
        )
        assert enqueued.returncode == 0, enqueued
        task_id = re.findall(r"\b[0-9a-f]{12}\b", enqueued.stdout)[0]
        log_file = tmp_path / ".taskrunner" / "taskrunner.log"

        async def completed() -> dict[str, Any]:
            lines = [json.loads(ln) for ln in log_file.read_text().splitlines()]
            done = [
                ln for ln in lines if ln.get("task_id") == task_id and "completed" in ln["message"]
            ]
            assert done, lines[-5:]
            return done[0]

        line = await assert_eventually(completed)
    finally:
        worker.send_signal(signal.SIGINT)
        _, err = worker.communicate(timeout=60)
    assert line["queue"] == env["TASKRUNNER_QUEUE__NAME"]
    assert (line["type"], line["attempt"], line["level"]) == ("tally", 1, "INFO")
    assert line["logger"] == "temporalio.workflow" and line["workflow_id"].startswith("task-queue/")
    assert "({'attempt'" not in line["message"]  # the SDK's context is in fields, not the text
    about_it = [json.loads(ln) for ln in err.splitlines() if task_id in ln]
    assert about_it and all(ln.keys() >= TASK_FIELDS for ln in about_it), err[-2000:]
