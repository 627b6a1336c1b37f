"""Jobs without a server: their settings, their schedules' shape, and their tasks' keys."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import ScheduleOverlapPolicy

from taskrunner.errors import ConfigError
from taskrunner.jobs.keys import task_key
from taskrunner.jobs.models import DailySlot, JobFire
from taskrunner.jobs.schedule import backup_cron, desired_jobs
from taskrunner.queue.models import TaskSpec
from taskrunner.settings.jobs import JobSettings, duration_text, parse_duration

BERLIN = ZoneInfo("Europe/Berlin")


def job(**fields: Any) -> JobSettings:
    return JobSettings.model_validate({"name": "nightly", "task": "noop", **fields})


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("1h30m", 5400), ("90s", 90), ("1d", 86400), ("2h", 7200), (30, 30)],
)
def test_durations_read_the_short_form(text: Any, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert parse_duration(duration_text(timedelta(seconds=seconds))).total_seconds() == seconds


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cron": ["0 2 * * *"], "every": "1h"}, "exactly one of cron and every"),
        ({}, "exactly one of cron and every"),
        ({"every": "soon"}, "'soon' is not a duration"),
        ({"cron": ["0 25 * * *"]}, "hour '25' is out of range 0-23"),
        ({"every": "1h", "once_per_local_day": True}, "needs a single cron expression"),
        ({"cron": ["*/5 * * * *"], "once_per_local_day": True}, "needs a single cron"),
        ({"every": "1h", "timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"every": "1h", "catchup_window": "5s"}, "at least 10s"),
        ({"every": "1h", "overlap": "queue"}, "'skip' or 'allow'"),
        ({"every": "1h", "name": "Nightly Run"}, "should match pattern"),
    ],
)
def test_a_job_that_cannot_work_is_refused_at_load(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        job(**fields)


def test_settings_refuse_two_jobs_of_one_name(make_settings: Any) -> None:
    one = {"name": "a", "task": "noop", "every": "1h"}
    with pytest.raises(ConfigError, match="job name 'a' is used twice"):
        make_settings(jobs=[one, one])


@pytest.mark.parametrize(
    ("cron", "daily"),
    [
        (["30 2 * * *"], True),
        (["@daily"], True),
        (["0 9 * * 1-5"], True),
        (["0 9,17 * * *"], False),
        (["*/15 * * * *"], False),
        (["0 9 * * *", "0 12 * * *"], False),
    ],
)
def test_once_per_local_day_is_on_by_default_for_one_fixed_daily_time(
    cron: list[str], daily: bool
) -> None:
    assert job(cron=cron).daily is daily
    assert job(cron=cron, once_per_local_day=False).daily is False


def test_the_backup_fire_is_an_hour_later_on_the_same_days() -> None:
    assert backup_cron("30 2 * * *") == "30 3 * * *"
    assert backup_cron("0 9 * * 1-5") == "0 10 * * 1-5"
    assert backup_cron("30 23 * * *") == "30 0 * * *"
    assert backup_cron("30 23 * * 1-5") is None  # 00:30 of the next weekday is not cron


def test_a_job_schedule_takes_its_defaults_from_the_settings(make_settings: Any) -> None:
    settings = make_settings(
        timezone="Europe/Berlin",
        queue={"name": "mail"},
        schedules={"id_prefix": "x-"},
        jobs=[
            {"name": "nightly", "task": "noop", "cron": ["30 2 * * *"], "start": "2026-01-01"},
            {
                "name": "often",
                "task": "noop",
                "every": "15m",
                "overlap": "allow",
                "end": "2026-12-31",
            },
        ],
    )
    nightly, often = desired_jobs(settings)
    assert (nightly.id, often.id) == ("x-job-nightly", "x-job-often")
    schedule = nightly.to_schedule()
    assert schedule.spec.cron_expressions == ["30 2 * * *", "30 3 * * *"]
    assert schedule.spec.time_zone_name == "Europe/Berlin"
    assert schedule.spec.start_at == datetime(2026, 1, 1, tzinfo=BERLIN)
    assert schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
    fire = nightly.fire_input()
    assert (fire.queue, fire.key_prefix, fire.wait) == ("mail", "job:x-nightly", True)
    assert fire.daily == DailySlot(timezone="Europe/Berlin", at=time(2, 30), backup=time(3, 30))
    other = often.to_schedule()
    assert [i.every for i in other.spec.intervals] == [timedelta(minutes=15)]
    assert other.spec.end_at == datetime(2026, 12, 31, 23, 59, 59, tzinfo=BERLIN)
    assert other.policy.overlap == ScheduleOverlapPolicy.ALLOW_ALL
    assert often.fire_input().daily is None and not often.fire_input().wait


def test_the_fingerprint_changes_with_what_is_sent_only(make_settings: Any) -> None:
    def fingerprint(**fields: Any) -> str:
        entry = {"name": "a", "task": "noop", "every": "1h", **fields}
        return desired_jobs(make_settings(jobs=[entry]))[0].fingerprint()

    assert fingerprint() == fingerprint()
    assert fingerprint() == fingerprint(every="60m")  # the same interval, written otherwise
    assert fingerprint() != fingerprint(priority=1)
    assert fingerprint() != fingerprint(paused=True)
    assert fingerprint() != fingerprint(payload={"n": 1})


def fire(daily: DailySlot | None) -> JobFire:
    return JobFire(
        job="nightly", key_prefix="job:nightly", queue="q", task=TaskSpec(type="noop"), daily=daily
    )


def berlin(
    year: int, month: int, day: int, hour: int, minute: int, second: int = 0, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=BERLIN, fold=fold)


def test_a_fire_is_keyed_by_its_utc_time() -> None:
    when = berlin(2026, 3, 29, 3, 30)
    assert task_key(fire(None), when) == "job:nightly@2026-03-29T01:30:00Z"


def test_a_daily_fire_and_its_backup_are_keyed_by_the_local_day() -> None:
    slot = DailySlot(timezone="Europe/Berlin", at=time(2, 30), backup=time(3, 30))
    keys = {
        task_key(fire(slot), when)
        for when in (
            berlin(2026, 10, 25, 2, 30),
            berlin(2026, 10, 25, 2, 30, fold=1),  # the repeated hour
            berlin(2026, 10, 25, 3, 30),
        )
    }
    assert keys == {"job:nightly@2026-10-25"}
    # A manual trigger at another time is a task of its own.
    assert (
        task_key(fire(slot), berlin(2026, 10, 25, 11, 2, 7)) == "job:nightly@2026-10-25T10:02:07Z"
    )


def test_the_backup_of_a_late_evening_job_belongs_to_the_day_before() -> None:
    slot = DailySlot(timezone="America/Nuuk", at=time(23, 30), backup=time(0, 30))
    nuuk = ZoneInfo("America/Nuuk")
    backup = datetime(2026, 3, 29, 0, 30, tzinfo=nuuk)
    assert task_key(fire(slot), backup) == "job:nightly@2026-03-28"
    assert task_key(fire(slot), backup.astimezone(UTC)) == "job:nightly@2026-03-28"


def test_the_example_settings_declare_jobs_the_worker_can_run(monkeypatch: Any) -> None:
    from taskrunner.jobs.schedule import check_job
    from taskrunner.settings import load_settings
    from taskrunner.tasks.loading import task_registry
    from tests.helpers.cli import ROOT

    monkeypatch.chdir(ROOT)  # task_path is relative to where the runner starts
    monkeypatch.setenv("TASKRUNNER_CONFIG", "examples/taskrunner.toml")
    settings = load_settings()
    known = task_registry(settings)
    for entry in settings.jobs:
        check_job(entry, settings, known)
    assert [(j.name, j.daily) for j in settings.jobs] == [
        ("prune-reports", True),
        ("sales-report", False),
    ]
