"""Schedules on the dev server (the time-skipping server has none)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import Client, Schedule, ScheduleActionStartWorkflow, ScheduleSpec

from taskrunner.errors import UserError
from taskrunner.schedules import operations as schedule_ops
from taskrunner.schedules.declarations import DECLARATIONS
from taskrunner.settings import Settings
from tests.helpers import assert_eventually

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def sched_settings(make_settings: Any) -> Any:
    """Settings whose schedule ids carry a prefix private to this test (one shared server)."""
    prefix = f"t{uuid.uuid4().hex[:8]}-"

    def build(**schedules: Any) -> Settings:
        return make_settings(timezone="Europe/Berlin", schedules={"id_prefix": prefix, **schedules})

    return build


async def test_apply_twice_creates_then_changes_nothing(
    dev_client: Client, sched_settings: Any
) -> None:
    settings = sched_settings()
    first = await schedule_ops.apply_schedules(dev_client, settings)
    assert {r.action for r in first} == {"created"}
    assert sorted(r.name for r in first) == sorted(d.name for d in DECLARATIONS)
    before = {
        r.id: (await dev_client.get_schedule_handle(r.id).describe()).info.last_updated_at
        for r in first
    }
    second = await schedule_ops.apply_schedules(dev_client, settings)
    assert {r.action for r in second} == {"unchanged"}
    assert len(second) == len(DECLARATIONS)
    for r in second:
        description = await dev_client.get_schedule_handle(r.id).describe()
        assert description.info.last_updated_at == before[r.id]


async def test_changed_spec_updates_in_place(dev_client: Client, sched_settings: Any) -> None:
    await schedule_ops.apply_schedules(dev_client, sched_settings())
    changed = sched_settings(health_monitor={"cron": ["0 3 * * *"]})
    results = {r.name: r.action for r in await schedule_ops.apply_schedules(dev_client, changed)}
    assert results["health-monitor"] == "updated"
    assert {a for n, a in results.items() if n != "health-monitor"} <= {"unchanged"}
    view = await schedule_ops.view(dev_client, changed, "health-monitor")
    assert view.cron == ["0 3 * * *"]
    assert [(t.hour, t.minute) for t in view.next_runs] == [(3, 0)] * 3


async def test_describe_next_runs_match_the_cron_in_the_zone(
    dev_client: Client, sched_settings: Any
) -> None:
    settings = sched_settings()
    await schedule_ops.apply_schedules(dev_client, settings)
    view = await schedule_ops.view(dev_client, settings, "health-monitor")
    assert view.timezone == "Europe/Berlin"
    assert len(view.next_runs) == 3
    assert all(t.minute % 5 == 0 and t.second == 0 for t in view.next_runs)
    assert [b - a for a, b in zip(view.next_runs, view.next_runs[1:], strict=False)] == [
        timedelta(minutes=5)
    ] * 2
    assert all(t.utcoffset() == datetime.now(BERLIN).utcoffset() for t in view.next_runs)


async def test_pause_and_unpause_are_reflected_and_survive_apply(
    dev_client: Client, sched_settings: Any
) -> None:
    settings = sched_settings()
    await schedule_ops.apply_schedules(dev_client, settings)
    await schedule_ops.pause(dev_client, settings, "health-monitor", "disk swap")
    view = await schedule_ops.view(dev_client, settings, "health-monitor")
    assert view.paused and view.note == "disk swap"
    # Applying again (e.g. a restart of `taskrunner run`) keeps the operator's pause.
    await schedule_ops.apply_schedules(
        dev_client, sched_settings(health_monitor={"cron": ["0 * * * *"]})
    )
    assert (await schedule_ops.view(dev_client, settings, "health-monitor")).paused
    await schedule_ops.unpause(dev_client, settings, "health-monitor", None)
    assert not (await schedule_ops.view(dev_client, settings, "health-monitor")).paused


async def test_paused_at_start_setting_creates_it_paused(
    dev_client: Client, sched_settings: Any
) -> None:
    settings = sched_settings(health_monitor={"paused": True})
    await schedule_ops.apply_schedules(dev_client, settings)
    assert (await schedule_ops.view(dev_client, settings, "health-monitor")).paused


async def test_disabled_schedule_is_deleted_and_foreign_ones_are_untouched(
    dev_client: Client, sched_settings: Any
) -> None:
    settings = sched_settings()
    await schedule_ops.apply_schedules(dev_client, settings)
    foreign_id = f"{settings.schedules.id_prefix}someone-elses"
    await dev_client.create_schedule(
        foreign_id,
        Schedule(
            action=ScheduleActionStartWorkflow("Other", id="other", task_queue="other"),
            spec=ScheduleSpec(cron_expressions=["0 0 * * *"]),
        ),
    )
    disabled = sched_settings(health_monitor={"enabled": False})

    async def deleted() -> None:
        results = await schedule_ops.apply_schedules(dev_client, disabled)
        assert ("health-monitor" not in {r.name for r in results}) or any(
            r.action == "deleted" for r in results
        )
        with pytest.raises(UserError, match="does not exist"):
            await schedule_ops.view(dev_client, disabled, "health-monitor")

    # Listing schedules goes through visibility, which lags a little behind creation.
    await assert_eventually(deleted, timeout=30, interval=1)
    assert (await dev_client.get_schedule_handle(foreign_id).describe()).id == foreign_id
    await dev_client.get_schedule_handle(foreign_id).delete()


async def test_trigger_starts_the_workflow_and_it_completes(
    dev_client: Client, sched_settings: Any, make_worker: Any
) -> None:
    # A cron that does not fire during the test: a scheduled run starting beside the
    # triggered one would become the schedule's last action (seen in CI at 22:25:00).
    settings = sched_settings(health_monitor={"cron": ["0 3 1 1 *"]})
    await schedule_ops.apply_schedules(dev_client, settings)
    async with make_worker(dev_client, settings):
        started = await schedule_ops.trigger(dev_client, settings, "health-monitor")
        assert started.workflow_id is not None and not started.skipped

        async def completed() -> None:
            view = await schedule_ops.view(dev_client, settings, "health-monitor")
            assert view.last_result == "completed", view
            assert view.last_workflow_id == started.workflow_id  # the run it named

        await assert_eventually(completed, timeout=60, interval=0.5)


async def test_unknown_schedule_name_is_one_clear_line(
    dev_client: Client, sched_settings: Any
) -> None:
    with pytest.raises(UserError) as caught:
        await schedule_ops.trigger(dev_client, sched_settings(), "helth-monitor")
    assert str(caught.value).startswith("unknown schedule 'helth-monitor'; known schedules: ")


async def test_backfill_refuses_an_empty_range(dev_client: Client, sched_settings: Any) -> None:
    settings = sched_settings()
    await schedule_ops.apply_schedules(dev_client, settings)
    now = datetime.now(BERLIN)
    with pytest.raises(UserError, match="is not after start"):
        await schedule_ops.backfill(dev_client, settings, "health-monitor", now, now)


def test_schedule_inputs_come_from_the_settings_they_declare(make_settings: Any) -> None:
    from taskrunner.schedules.declarations import desired_schedules

    settings = make_settings(
        queue={"name": "mail", "drain_timeout_seconds": 120},
        maintenance={"window_start": "23:00", "window_end": "01:00"},
    )
    by_name = {d.declaration.name: d for d in desired_schedules(settings)}
    processor = by_name["task-processor"].arg.model_dump()
    assert processor["queue"] == "mail" and processor["drain_timeout_seconds"] == 120
    maintenance = by_name["maintenance"].arg.model_dump(mode="json")
    assert (maintenance["window_start"], maintenance["window_end"]) == ("23:00:00", "01:00:00")
    assert by_name["maintenance"].declaration.workflow.__name__ == "DailyMaintenanceWorkflow"
