"""A job as the Temporal Schedule that runs it: what apply creates, compares and updates.

A job's schedule has the readable id ``<schedules.id_prefix>job-<name>``, starts
JobFireWorkflow with the job's task, and carries in its action memo the job as it
was declared (``jobs list`` shows it from there), where it comes from, and a
fingerprint of everything sent, so an apply with nothing changed sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.exceptions import ApplicationError

from taskrunner.errors import ConfigError
from taskrunner.jobs.models import DailySlot, JobFire
from taskrunner.jobs.workflow import JobFireWorkflow
from taskrunner.queue.admission import check_spec
from taskrunner.queue.models import TaskSpec
from taskrunner.schedules.declarations import MEMO_KEY, fingerprint_of
from taskrunner.settings import Settings
from taskrunner.settings.jobs import JobSettings, duration_text, fixed_time
from taskrunner.tasks.builtin import payload_context
from taskrunner.tasks.registry import TaskRegistry

JOB_ID_PREFIX = "job-"
"""A job's schedule id is this plus its name (after ``schedules.id_prefix``)."""
Origin = Literal["settings", "cli"]
"""Where a job was declared: apply deletes a removed settings job, never a CLI one."""
CLI_ORIGIN: Origin = "cli"
"""The origin of a job added with ``taskrunner jobs add``: apply never deletes it."""
OVERLAP = {"skip": ScheduleOverlapPolicy.SKIP, "allow": ScheduleOverlapPolicy.ALLOW_ALL}


def job_schedule_id(settings: Settings, name: str) -> str:
    return f"{settings.schedules.id_prefix}{JOB_ID_PREFIX}{name}"


def backup_cron(expression: str) -> str | None:
    """The backup fire of a daily cron, an hour after it (None when it cannot be one).

    A spring-forward gap can swallow the job's time (02:30 on 2026-03-29 in Berlin);
    the hour after it exists. At 23:xx the backup is 00:xx of the next day, which only
    an every-day job can say in cron (no zone springs forward at 23:00 but Greenland's).
    """
    minute, hour, *days = expression.split()
    if int(hour) < 23:
        return " ".join([minute, str(int(hour) + 1), *days])
    return f"{minute} 0 * * *" if days == ["*", "*", "*"] else None


@dataclass(frozen=True)
class JobSchedule:
    """One job, its defaults filled in from the settings: exactly what should exist."""

    id: str
    job: JobSettings
    """With ``timezone`` and ``queue`` filled in from the settings (see job_schedule)."""
    origin: Origin
    task_queue: str
    key_prefix: str

    @property
    def name(self) -> str:
        return self.job.name

    @property
    def kind(self) -> str:
        return "job"

    @property
    def paused(self) -> bool:
        return self.job.paused

    @property
    def zone(self) -> str:
        assert self.job.timezone is not None  # job_schedule filled it in
        return self.job.timezone

    @property
    def queue(self) -> str:
        assert self.job.queue is not None  # job_schedule filled it in
        return self.job.queue

    def backup(self) -> str | None:
        """The backup cron of a once-per-local-day job (None: not one, or none possible)."""
        return backup_cron(self.job.cron[0]) if self.job.daily and self.job.cron else None

    def crons(self) -> list[str]:
        """The job's crons, plus the backup fire of a once-per-local-day job."""
        backup = self.backup()
        return [*(self.job.cron or []), *([backup] if backup else [])]

    def daily_slot(self) -> DailySlot | None:
        """The fire times a once-per-local-day job's keys are made for (None: not one)."""
        found = fixed_time(self.job.cron) if self.job.daily else None
        if found is None:
            return None
        hour, minute = found
        return DailySlot(
            timezone=self.zone,
            at=time(hour, minute),
            backup=time((hour + 1) % 24, minute) if self.backup() else None,
        )

    def fire_input(self) -> JobFire:
        job = self.job
        return JobFire(
            job=job.name,
            key_prefix=self.key_prefix,
            queue=self.queue,
            task=TaskSpec(type=job.task, payload=job.payload, priority=job.priority),
            wait=job.overlap == "skip",
            daily=self.daily_slot(),
        )

    def spec(self) -> ScheduleSpec:
        job, zone = self.job, ZoneInfo(self.zone)
        return ScheduleSpec(
            cron_expressions=self.crons(),
            intervals=[ScheduleIntervalSpec(every=job.every)] if job.every else [],
            time_zone_name=self.zone,
            jitter=job.jitter or None,
            start_at=instant(job.start, zone),
            end_at=instant(job.end, zone, end_of_day=True),
        )

    def memo(self) -> dict[str, Any]:
        """Our memo entry, fingerprint aside (``jobs list`` reads the job from it)."""
        return {
            "schedule": self.name,
            "kind": "job",
            "origin": self.origin,
            "paused": self.paused,
            "cron": describe_spec(self.job),
            "job": self.job.model_dump(mode="json"),
        }

    def fingerprint(self) -> str:
        """Changes whenever anything we would send changes (so apply can skip no-op updates)."""
        spec = self.spec()
        content = {
            "workflow": "JobFireWorkflow",
            "input": self.fire_input().model_dump(mode="json"),
            "crons": spec.cron_expressions,
            "every": self.job.every.total_seconds() if self.job.every else None,
            "spec": [self.zone, str(spec.jitter), str(spec.start_at), str(spec.end_at)],
            "policy": [self.job.overlap, self.job.catchup_window.total_seconds()],
            "task_queue": self.task_queue,
            "memo": self.memo(),
        }
        return fingerprint_of(content)

    def to_schedule(self) -> Schedule:
        job = self.job
        return Schedule(
            action=ScheduleActionStartWorkflow(
                JobFireWorkflow.run,
                self.fire_input(),
                id=f"{self.id}/run",
                task_queue=self.task_queue,
                memo={MEMO_KEY: {**self.memo(), "fingerprint": self.fingerprint()}},
                static_summary=f"job {job.name}: enqueue {job.task} into queue {self.queue}",
            ),
            spec=self.spec(),
            policy=SchedulePolicy(overlap=OVERLAP[job.overlap], catchup_window=job.catchup_window),
            state=ScheduleState(
                paused=job.paused, note=f"paused at start ({self.origin})" if job.paused else None
            ),
        )


def describe_spec(job: JobSettings) -> list[str]:
    """The job's fire times as the user wrote them: its crons, or ``every 15m``."""
    return list(job.cron) if job.cron else [f"every {duration_text(job.every or timedelta())}"]


def instant(value: date | datetime | None, zone: ZoneInfo, end_of_day: bool = False) -> Any:
    """A start or end setting as an aware instant (a date: its midnight, or for an end,
    the last second of that day; a naive time: in the job's zone)."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        day = value + timedelta(days=1) if end_of_day else value
        moment = datetime.combine(day, time(0), zone)
        return moment - timedelta(seconds=1) if end_of_day else moment
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def job_schedule(settings: Settings, job: JobSettings, origin: Origin) -> JobSchedule:
    """The job's schedule, its zone and queue defaulting to the top-level settings'."""
    defaults = {
        "timezone": job.timezone or settings.timezone,
        "queue": job.queue or settings.queue.name,
    }
    prefix = settings.schedules.id_prefix
    return JobSchedule(
        id=job_schedule_id(settings, job.name),
        job=job.model_copy(update=defaults),
        origin=origin,
        task_queue=settings.task_queue,
        key_prefix=f"job:{prefix}{job.name}",
    )


def desired_jobs(settings: Settings) -> list[JobSchedule]:
    """Every job of the settings, ready to apply."""
    return [job_schedule(settings, job, "settings") for job in settings.jobs]


def check_job(job: JobSettings, settings: Settings, task_types: TaskRegistry) -> None:
    """Refuse, in one line naming the job, a task type or payload the queue would refuse."""
    queue = settings.queue.config(job.queue)
    spec = TaskSpec(type=job.task, payload=job.payload, priority=job.priority)
    try:
        check_spec(spec, queue, task_types, payload_context(settings))
    except ApplicationError as err:
        raise ConfigError(f"job {job.name!r}: {err.message}") from None
