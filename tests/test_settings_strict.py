"""Strict settings: an unknown key at any level, or an unknown TASKRUNNER_ variable, is
refused in one line with the nearest valid name."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from taskrunner.errors import ConfigError
from taskrunner.settings import Settings, load_settings


def _refusal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, toml: str = "", **env: str) -> str:
    """The one-line error loading settings from ``toml`` and ``env`` gives."""
    config = tmp_path / "runner.toml"
    config.write_text(toml)
    monkeypatch.setenv("TASKRUNNER_CONFIG", str(config))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "\n" not in message
    return message


PROBE = '[[health.probes]]\nkind = "tcp"\nname = "db"\nhost = "h"\nport = 1\n'


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        pytest.param(
            "cpu_treshold = 80\n",
            "unknown setting cpu_treshold: did you mean health.cpu_threshold?",
            id="top level, found in its section",
        ),
        pytest.param(
            "task_queu = 'ops'\n",
            "unknown setting task_queu: did you mean task_queue?",
            id="top level",
        ),
        pytest.param(
            "[health]\ncpu_treshold = 50\n",
            "unknown setting health.cpu_treshold: did you mean cpu_threshold?",
            id="health",
        ),
        pytest.param(
            "[queue]\nmax_concurency = 5\n",
            "unknown setting queue.max_concurency: did you mean max_concurrency?",
            id="queue",
        ),
        pytest.param(
            "[maintenance]\nkeep_backup = 3\n",
            "unknown setting maintenance.keep_backup: did you mean keep_backups?",
            id="maintenance",
        ),
        pytest.param(
            '[smtp]\nhostname = "x"\n',
            "unknown setting smtp.hostname: did you mean host?",
            id="smtp",
        ),
        pytest.param(
            "[notifications.slack]\nenable = true\n",
            "unknown setting notifications.slack.enable: did you mean enabled?",
            id="nested section",
        ),
        pytest.param(
            "[schedules.maintenance]\ncrons = ['0 3 * * *']\n",
            "unknown setting schedules.maintenance.crons: did you mean cron?",
            id="schedule",
        ),
        pytest.param(
            PROBE + "timeout = 3\n",
            "unknown setting health.probes.0.timeout: did you mean timeout_seconds?",
            id="probe entry",
        ),
        pytest.param(
            '[[maintenance.targets]]\nname = "a"\npth = "a.db"\n',
            "unknown setting maintenance.targets.0.pth: did you mean path?",
            id="target entry",
        ),
        pytest.param(
            '[reports.signups]\ntitle = "S"\nsql = "SELECT 1"\nmax_row = 5\n',
            "unknown setting reports.signups.max_row: did you mean max_rows?",
            id="report entry",
        ),
        pytest.param(
            "[smtp]\nzzz = 1\n",
            "unknown setting smtp.zzz: valid keys here: host, port, security, username, "
            "password_env, from_address, timeout_seconds",
            id="nothing close",
        ),
    ],
)
def test_unknown_toml_key_is_refused_at_every_level_with_the_nearest_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, expected: str
) -> None:
    assert _refusal(monkeypatch, tmp_path, toml) == expected


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        pytest.param(
            "TASKRUNNER_XYZZY_PLUGH",
            "1",
            "unknown setting TASKRUNNER_XYZZY_PLUGH: not a setting nor a variable the runner "
            "reads (TASKRUNNER_CODEC_TOKEN, TASKRUNNER_CONFIG, TASKRUNNER_DASHBOARD_TOKEN, "
            "TASKRUNNER_ENCRYPTION_KEYS, "
            "TASKRUNNER_SLACK_WEBHOOK_URL, TASKRUNNER_SMTP_PASSWORD; "
            "a *_env setting adds one)",
            id="top level",
        ),
        pytest.param(
            "TASKRUNNER_TIMEZON",
            "UTC",
            "unknown setting TASKRUNNER_TIMEZON: did you mean TASKRUNNER_TIMEZONE?",
            id="top level, close",
        ),
        pytest.param(
            "TASKRUNNER_SMTP_PASWORD",
            "hunter2",
            "unknown setting TASKRUNNER_SMTP_PASWORD: did you mean TASKRUNNER_SMTP_PASSWORD?",
            id="a secret's variable",
        ),
        pytest.param(
            "TASKRUNNER_HEALTH__CPU_TRESHOLD",
            "50",
            "unknown setting TASKRUNNER_HEALTH__CPU_TRESHOLD: "
            "did you mean TASKRUNNER_HEALTH__CPU_THRESHOLD?",
            id="nested",
        ),
        pytest.param(
            "TASKRUNNER_NOTIFICATIONS__SLACK__ENABLE",
            "true",
            "unknown setting TASKRUNNER_NOTIFICATIONS__SLACK__ENABLE: "
            "did you mean TASKRUNNER_NOTIFICATIONS__SLACK__ENABLED?",
            id="nested twice",
        ),
        pytest.param(
            "TASKRUNNER_TIMEZONE__X",
            "UTC",
            "unknown setting TASKRUNNER_TIMEZONE__X: did you mean TASKRUNNER_TIMEZONE?",
            id="nested under a plain value",
        ),
        pytest.param(
            "TASKRUNNER_HEALTH__PROBES",
            '[{"kind": "tcp", "name": "db", "host": "h", "port": 1, "timeout": 3}]',
            "unknown setting health.probes.0.timeout (in TASKRUNNER_HEALTH__PROBES): "
            "did you mean timeout_seconds?",
            id="inside a JSON value",
        ),
    ],
)
def test_unknown_variable_is_refused_with_the_nearest_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    assert _refusal(monkeypatch, tmp_path, **{name: value}) == expected


def test_an_unknown_key_never_shows_its_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = _refusal(monkeypatch, tmp_path, '[smtp]\npassword = "hunter2"\n')
    assert message == "unknown setting smtp.password: did you mean password_env?"


def test_the_settings_file_and_secret_variables_still_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "runner.toml"
    config.write_text('[notifications.webhook]\nsecret_env = "TASKRUNNER_WEBHOOK_SECRET"\n')
    monkeypatch.setenv("TASKRUNNER_CONFIG", str(config))
    monkeypatch.setenv("TASKRUNNER_SMTP_PASSWORD", "s3cret")
    monkeypatch.setenv("TASKRUNNER_SLACK_WEBHOOK_URL", "https://hooks.example/x")
    monkeypatch.setenv("TASKRUNNER_WEBHOOK_SECRET", "shh")
    assert load_settings().notifications.webhook.secret_env == "TASKRUNNER_WEBHOOK_SECRET"


def test_a_variable_named_by_any_env_setting_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "runner.toml"
    config.write_text('[smtp]\npassword_env = "TASKRUNNER_MAIL_PASS"\n')
    monkeypatch.setenv("TASKRUNNER_CONFIG", str(config))
    monkeypatch.setenv("TASKRUNNER_MAIL_PASS", "s3cret")
    monkeypatch.setenv("TASKRUNNER_NOTIFICATIONS__SLACK__WEBHOOK_URL_ENV", "TASKRUNNER_SLACK_TOKEN")
    monkeypatch.setenv("TASKRUNNER_SLACK_TOKEN", "https://hooks.example/x")
    settings = load_settings()
    assert settings.smtp.password_env == "TASKRUNNER_MAIL_PASS"
    assert settings.notifications.slack.webhook_url_env == "TASKRUNNER_SLACK_TOKEN"


def test_a_secret_variable_no_setting_names_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The webhook is unsigned by default: nothing reads this variable.
    assert _refusal(monkeypatch, tmp_path, TASKRUNNER_WEBHOOK_SECRET="shh") == (
        "unknown setting TASKRUNNER_WEBHOOK_SECRET: did you mean TASKRUNNER_NOTIFICATIONS__WEBHOOK?"
    )


def test_unknown_keys_in_overrides_are_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(data_sync={"batchsize": 10})
    assert str(caught.value) == "unknown setting data_sync.batchsize: did you mean batch_size?"


def _models(node: Any) -> Iterator[type[BaseModel]]:
    """Every model reachable from ``node``'s fields (through lists, dicts, unions, Annotated)."""
    if isinstance(node, type) and issubclass(node, BaseModel):
        yield node
        for field in node.model_fields.values():
            yield from _models(field.annotation)
    for arg in get_args(node):
        yield from _models(arg)


def test_every_settings_model_forbids_unknown_keys() -> None:
    models = set(_models(Settings))
    assert {"TcpProbe", "DatabaseTarget", "ReportSpec", "WebhookChannel"} <= {
        m.__name__ for m in models
    }
    assert not [m.__name__ for m in models if m.model_config.get("extra") != "forbid"]
