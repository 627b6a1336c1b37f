"""Which path a task type takes: declared, then switched per type by ``queue.task_paths``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from taskrunner.errors import ConfigError
from taskrunner.tasks.builtin import BUILTIN_TASK_TYPES
from taskrunner.tasks.loading import task_registry
from taskrunner.tasks.registry import TaskType
from tests.helpers.queue import SamplePayload


def test_built_in_paths_email_is_local_and_bundled_the_others_remote() -> None:
    email, report, sync = (BUILTIN_TASK_TYPES[n] for n in ("email", "report", "dataSync"))
    assert (email.local, email.bundle) == (True, 10)
    assert not report.local and not sync.local
    execution = email.execution("task_email")
    assert (execution.local, execution.bundle) == (True, 10)


def test_settings_switch_a_type_and_its_bundle(make_settings: Any) -> None:
    settings = make_settings(queue={"task_paths": {"email": {"path": "remote"}}})
    assert not task_registry(settings)["email"].local
    settings = make_settings(queue={"task_paths": {"email": {"path": "local", "bundle": 3}}})
    assert task_registry(settings)["email"].bundle == 3


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (
            {"emial": {"path": "local"}},
            "queue.task_paths names task type 'emial', which no module declares (known: ",
        ),
        (
            {"report": {"path": "local"}},
            "queue.task_paths.report: task type 'report': a local task type runs at most 60 s "
            "an attempt (its timeout is 600 s); run it remote",
        ),
        (
            {"email": {"path": "remote", "bundle": 5}},
            "queue.task_paths.email: task type 'email': bundle needs local = true",
        ),
    ],
)
def test_a_path_that_cannot_be_is_one_line(make_settings: Any, paths: Any, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        task_registry(make_settings(queue={"task_paths": paths}))
    assert str(caught.value).startswith(message)


def test_a_local_type_cannot_heartbeat() -> None:
    with pytest.raises(ValueError, match="a local task type cannot heartbeat"):
        TaskType(
            "beats",
            SamplePayload,
            lambda _: print,
            timedelta(seconds=10),
            heartbeat_timeout=timedelta(seconds=2),
            local=True,
        )
