"""Maintenance settings, the workflow input built from them, the window rule and sizes."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pytest

from taskrunner.errors import ConfigError
from taskrunner.maintenance.models import MaintenanceWindow, in_window, maintenance_input
from taskrunner.settings import load_settings
from taskrunner.sizes import human_size


def test_maintenance_input_defaults_to_the_application_database_and_2_to_4(
    make_settings: Any,
) -> None:
    params = maintenance_input(make_settings(timezone="Europe/Berlin"))
    assert params.targets == ["app"]
    assert params.window == "02:00-04:00"
    assert params.timezone == "Europe/Berlin"
    assert not params.force
    assert maintenance_input(make_settings(), force=True).force


def test_maintenance_targets_and_window_come_from_the_environment(monkeypatch: Any) -> None:
    monkeypatch.setenv("TASKRUNNER_MAINTENANCE__WINDOW_START", "23:30")
    monkeypatch.setenv("TASKRUNNER_MAINTENANCE__WINDOW_END", "01:00")
    monkeypatch.setenv(
        "TASKRUNNER_MAINTENANCE__TARGETS",
        '[{"name": "app"}, {"name": "pg", "kind": "postgres", "dsn": "postgresql://db/x"}]',
    )
    params = maintenance_input(load_settings())
    assert params.targets == ["app", "pg"]
    assert params.window == "23:30-01:00"


def test_an_empty_window_is_a_one_line_error() -> None:
    with pytest.raises(ConfigError, match="window_start and window_end must differ"):
        load_settings(maintenance={"window_start": "02:00", "window_end": "02:00"})


def test_duplicate_target_names_are_rejected() -> None:
    with pytest.raises(ConfigError, match="target names must be unique, repeated: a"):
        load_settings(maintenance={"targets": [{"name": "a"}, {"name": "a"}]})


def test_keep_backups_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="TASKRUNNER_MAINTENANCE__KEEP_BACKUPS"):
        load_settings(maintenance={"keep_backups": 0})


@pytest.mark.parametrize(
    ("at", "start", "end", "expected"),
    [
        (time(2, 0), time(2), time(4), True),
        (time(3, 59), time(2), time(4), True),
        (time(4, 0), time(2), time(4), False),
        (time(1, 59), time(2), time(4), False),
        (time(23, 45), time(23, 30), time(0, 30), True),
        (time(0, 10), time(23, 30), time(0, 30), True),
        (time(12, 0), time(23, 30), time(0, 30), False),
    ],
)
def test_window_includes_its_start_excludes_its_end_and_may_span_midnight(
    at: time, start: time, end: time, expected: bool
) -> None:
    assert in_window(at, start, end) is expected


@pytest.mark.parametrize(
    ("at", "start", "end", "night"),
    [
        ("2026-06-10T23:00", time(23), time(1), "2026-06-10"),
        ("2026-06-11T00:00", time(23), time(1), "2026-06-10"),
        ("2026-06-11T00:59", time(23), time(1), "2026-06-10"),
        ("2026-06-11T02:00", time(2), time(4), "2026-06-11"),
        ("2026-06-11T03:30", time(2), time(4), "2026-06-11"),
        ("2026-06-11T01:00", time(2), time(4), "2026-06-10"),
    ],
)
def test_a_time_belongs_to_the_night_its_window_opened(
    at: str, start: time, end: time, night: str
) -> None:
    window = MaintenanceWindow(window_start=start, window_end=end)
    assert window.night_of(datetime.fromisoformat(at)).isoformat() == night


def test_human_sizes() -> None:
    assert human_size(0) == "0 B"
    assert human_size(999) == "999 B"
    assert human_size(1_234_567) == "1.2 MB"
    assert human_size(524_000_000) == "524.0 MB"
    assert human_size(1_200_000_000) == "1.2 GB"
