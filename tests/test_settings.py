"""Settings: defaults, environment and TOML sources, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from taskrunner.errors import ConfigError
from taskrunner.settings import load_settings


def test_defaults_match_the_seed() -> None:
    settings = load_settings()
    assert (settings.health.cpu_threshold, settings.health.memory_threshold) == (90, 90)
    assert settings.health.disk_threshold == 90
    assert settings.data_dir == Path(".taskrunner")
    assert settings.ui_port == 8233


def test_environment_overrides_nested_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKRUNNER_HEALTH__CPU_THRESHOLD", "75")
    monkeypatch.setenv("TASKRUNNER_TIMEZONE", "Europe/Berlin")
    settings = load_settings()
    assert settings.health.cpu_threshold == 75
    assert settings.timezone == "Europe/Berlin"


def test_toml_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "runner.toml"
    config.write_text(
        'task_queue = "ops"\n[health]\ndisk_threshold = 80\n'
        '[[health.probes]]\nkind = "tcp"\nname = "db"\nhost = "127.0.0.1"\nport = 5432\n'
    )
    monkeypatch.setenv("TASKRUNNER_CONFIG", str(config))
    settings = load_settings()
    assert settings.task_queue == "ops"
    assert settings.health.disk_threshold == 80
    assert settings.health.probes[0].kind == "tcp"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("TASKRUNNER_HEALTH__CPU_THRESHOLD", "abc", "TASKRUNNER_HEALTH__CPU_THRESHOLD (got 'abc')"),
        ("TASKRUNNER_HEALTH__DISK_THRESHOLD", "150", "less than or equal to 100"),
        ("TASKRUNNER_TIMEZONE", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("TASKRUNNER_UI_PORT", "0", "TASKRUNNER_UI_PORT"),
    ],
)
def test_bad_value_fails_with_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_missing_settings_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKRUNNER_CONFIG", "/nonexistent/runner.toml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()


def test_broken_toml_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "runner.toml"
    config.write_text("task_queue = [unclosed\n")
    monkeypatch.setenv("TASKRUNNER_CONFIG", str(config))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "\n" not in str(caught.value)


def test_duplicate_probe_names_are_refused() -> None:
    probe = {"kind": "tcp", "name": "db", "host": "h", "port": 1}
    with pytest.raises(ConfigError, match="repeated: db"):
        load_settings(health={"probes": [probe, probe]})


def test_declared_reports_are_added_to_the_built_in_sales_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "runner.toml"
    config.write_text(
        '[reports.signups]\ntitle = "Signups"\n'
        'sql = "SELECT day, count(*) FROM signups WHERE day >= :start GROUP BY day"\n'
    )
    monkeypatch.setenv("TASKRUNNER_CONFIG", str(config))
    settings = load_settings()
    assert sorted(settings.reports) == ["sales", "signups"]
    assert settings.reports["signups"].title == "Signups"
    assert settings.reports["sales"].seed_table == "sales"


def test_a_bad_report_declaration_is_one_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(reports={"bad name!": {"title": "x", "sql": "SELECT 1"}})
    assert "TASKRUNNER_REPORTS" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(ConfigError, match="TASKRUNNER_REPORTS__SIGNUPS__SQL"):
        load_settings(reports={"signups": {"title": "x"}})


# -- unknown keys and variables ---------------------------------------------------
