"""Jobs are applied beside the built-in schedules: idempotently, and only what we manage."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import Client, Schedule, ScheduleActionStartWorkflow, ScheduleSpec

from taskrunner.errors import ConfigError, UserError
from taskrunner.jobs import operations as job_ops
from taskrunner.schedules import operations as schedule_ops
from taskrunner.schedules.declarations import DECLARATIONS
from taskrunner.settings.jobs import JobSettings
from tests.helpers import assert_eventually
from tests.helpers.jobs import job_settings_factory, ledger_registry
from tests.helpers.schedules import schedule_exists

HOURLY = {"name": "hourly", "task": "noop", "cron": ["5 * * * *"]}
NIGHTLY = {"name": "nightly", "task": "report", "payload": {"report_type": "sales"}}


@pytest.fixture
def jobs(make_settings: Any) -> Any:
    return job_settings_factory(make_settings, "jobs-apply")


async def apply(client: Client, settings: Any) -> dict[str, str]:
    results = await schedule_ops.apply_schedules(client, settings, ledger_registry())
    return {r.id: r.action for r in results}


async def test_apply_twice_changes_nothing(dev_client: Client, jobs: Any) -> None:
    settings = jobs(HOURLY, {**NIGHTLY, "cron": ["0 1 * * *"], "jitter": "1m"})
    prefix = settings.schedules.id_prefix
    first = await apply(dev_client, settings)
    assert first[f"{prefix}job-hourly"] == first[f"{prefix}job-nightly"] == "created"
    assert len(first) == len(DECLARATIONS) + 2
    updated_at = {
        sid: (await dev_client.get_schedule_handle(sid).describe()).info.last_updated_at
        for sid in first
    }
    assert set((await apply(dev_client, settings)).values()) == {"unchanged"}
    for sid, stamp in updated_at.items():
        assert (await dev_client.get_schedule_handle(sid).describe()).info.last_updated_at == stamp


async def test_a_changed_job_is_updated_in_place(dev_client: Client, jobs: Any) -> None:
    await apply(dev_client, jobs(HOURLY))
    changed = jobs({**HOURLY, "cron": ["10 * * * *"], "priority": 5})
    results = await apply(dev_client, changed)
    assert results[f"{changed.schedules.id_prefix}job-hourly"] == "updated"
    assert {a for sid, a in results.items() if not sid.endswith("job-hourly")} == {"unchanged"}
    view = await job_ops.view_job(dev_client, changed, "hourly")
    assert view.spec == ["10 * * * *"] and view.job.priority == 5
    assert all(t.minute == 10 for t in view.next_runs)


async def test_a_job_removed_from_the_settings_is_deleted_and_others_are_untouched(
    dev_client: Client, jobs: Any
) -> None:
    settings = jobs(HOURLY, {**NIGHTLY, "every": "1d"})
    prefix = settings.schedules.id_prefix
    await apply(dev_client, settings)
    foreign = f"{prefix}job-someone-elses"  # looks like ours, is not ours
    await dev_client.create_schedule(
        foreign,
        Schedule(
            action=ScheduleActionStartWorkflow("Other", id="other", task_queue="other"),
            spec=ScheduleSpec(cron_expressions=["0 0 * * *"]),
        ),
    )
    added = JobSettings(name="by-hand", task="noop", every="6h")  # type: ignore[arg-type]
    await job_ops.add_job(dev_client, settings, added, ledger_registry())
    fewer = jobs(HOURLY)

    async def deleted() -> None:
        results = await apply(dev_client, fewer)
        assert results.get(f"{prefix}job-nightly") == "deleted" or not await schedule_exists(
            dev_client, f"{prefix}job-nightly"
        )

    # Listing schedules goes through visibility, which lags a little behind creation.
    await assert_eventually(deleted, timeout=30, interval=1)
    assert not await schedule_exists(dev_client, f"{prefix}job-nightly")
    assert await schedule_exists(dev_client, f"{prefix}job-hourly")
    assert await schedule_exists(dev_client, foreign)
    view = await job_ops.view_job(dev_client, fewer, "by-hand")  # the CLI's job stays
    assert view.origin == "cli" and view.spec == ["every 6h"]
    await dev_client.get_schedule_handle(foreign).delete()


async def test_a_bad_task_type_or_payload_is_refused_before_anything_is_sent(
    dev_client: Client, jobs: Any
) -> None:
    settings = jobs(HOURLY, {"name": "typo", "task": "emial", "every": "1h"})
    with pytest.raises(ConfigError) as caught:
        await apply(dev_client, settings)
    assert str(caught.value).startswith("job 'typo': unknown task type 'emial' (known types: ")
    bad_payload = jobs({"name": "report", "task": "report", "every": "1h"})
    with pytest.raises(ConfigError, match=r"^job 'report': invalid payload for task type"):
        await apply(dev_client, bad_payload)
    assert not await schedule_exists(dev_client, f"{settings.schedules.id_prefix}job-hourly")


async def test_jobs_add_refuses_a_name_taken_by_the_settings_or_the_server(
    dev_client: Client, jobs: Any
) -> None:
    settings = jobs(HOURLY)
    await apply(dev_client, settings)
    taken = JobSettings(name="hourly", task="noop", every="1h")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="is declared in the settings"):
        await job_ops.add_job(dev_client, settings, taken, ledger_registry())
    extra = JobSettings(name="extra", task="noop", every="1h")  # type: ignore[arg-type]
    await job_ops.add_job(dev_client, settings, extra, ledger_registry())
    with pytest.raises(UserError, match="exists already"):
        await job_ops.add_job(dev_client, settings, extra, ledger_registry())
    await job_ops.remove_job(dev_client, settings, "extra")
    with pytest.raises(UserError, match="does not exist on the server"):
        await job_ops.view_job(dev_client, settings, "extra")
