"""How many tasks of a type run in one call: declared, then changed per type by
``queue.bundles``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from taskrunner.errors import ConfigError
from taskrunner.tasks.builtin import BUILTIN_TASK_TYPES
from taskrunner.tasks.loading import task_registry
from taskrunner.tasks.registry import TaskType
from tests.helpers.queue import SamplePayload


def test_email_is_bundled_by_thirty_report_and_data_sync_run_alone() -> None:
    email, report, sync = (BUILTIN_TASK_TYPES[n] for n in ("email", "report", "dataSync"))
    assert (email.bundle, report.bundle, sync.bundle) == (30, 1, 1)
    assert email.execution("task_email").bundle == 30


def test_settings_change_a_types_bundle(make_settings: Any) -> None:
    assert task_registry(make_settings(queue={"bundles": {"email": 1}}))["email"].bundle == 1
    assert task_registry(make_settings(queue={"bundles": {"email": 3}}))["email"].bundle == 3


@pytest.mark.parametrize(
    ("bundles", "message"),
    [
        (
            {"emial": 5},
            "queue.bundles names task type 'emial', which no module declares (known: ",
        ),
        (
            {"report": 5},
            "queue.bundles.report: task type 'report': a bundled task type runs at most 60 s "
            "an attempt (its timeout is 600 s); keep bundle = 1",
        ),
        ({"email": 0}, "queue.bundles.email: task type 'email': bundle must be 1 to 100"),
    ],
)
def test_a_bundle_that_cannot_be_is_one_line(
    make_settings: Any, bundles: Any, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        task_registry(make_settings(queue={"bundles": bundles}))
    assert str(caught.value).startswith(message)


def test_a_bundled_type_cannot_heartbeat() -> None:
    with pytest.raises(ValueError, match="a bundled task cannot heartbeat"):
        TaskType(
            "beats",
            SamplePayload,
            lambda _: print,
            timedelta(seconds=10),
            heartbeat_timeout=timedelta(seconds=2),
            bundle=5,
        )
