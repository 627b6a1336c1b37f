"""``taskrunner demo``: one pass of every scheduled job over four sample tasks, with real effects."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from taskrunner.cli.health import render_health
from taskrunner.cli.session import temporal_session
from taskrunner.events import attempts
from taskrunner.maintenance.models import SKIP_REASON, maintenance_input
from taskrunner.notifications.channels.console import HeldConsole, hold_console
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import (
    ProcessorInput,
    TaskSpec,
    queue_workflow_id,
)
from taskrunner.scheduled.models import (
    ScheduledTasksInput,
    ScheduledTasksReport,
    scheduled_workflow_id,
)
from taskrunner.settings import Settings

RULE = "=" * 60
DEMO_RECORDS = 25
"""Records the demo's dataSync task reads from its JSON source."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="one-shot tour: enqueue 4 sample tasks, run health, queue and maintenance",
        description="Enqueue four sample tasks (2 emails, a report, a data sync) into a "
        "fresh queue, run ScheduledTasksWorkflow (health -> queue -> maintenance) and print "
        "what each step did. Effects land in the data directory.",
    )
    parser.set_defaults(handler=demo_command)


def sample_tasks(source: Path) -> list[TaskSpec]:
    """Four sample tasks; the data sync reads a JSON file the demo writes."""
    return [
        TaskSpec(
            type="email",
            payload={
                "recipient": "admin@example.com",
                "subject": "Daily Report",
                "body": "Daily report.",
            },
        ),
        TaskSpec(type="report", payload={"report_type": "sales", "period": "daily"}),
        TaskSpec(
            type="dataSync", payload={"source": str(source), "destination": "external_api_records"}
        ),
        TaskSpec(
            type="email",
            payload={
                "recipient": "user@example.com",
                "subject": "Weekly Summary",
                "body": "Weekly summary.",
            },
        ),
    ]


def write_demo_source(settings: Settings) -> Path:
    # In a folder dataSync may read files from (data_sync.allowed_dirs; imports/ by default).
    folder = (settings.data_sync.allowed_dirs or [settings.imports_dir])[0]
    source = (folder / "demo-external-api.json").resolve()
    source.parent.mkdir(parents=True, exist_ok=True)
    records = [
        {"id": i, "name": f"customer-{i}", "plan": ("free", "pro", "team")[i % 3]}
        for i in range(1, DEMO_RECORDS + 1)
    ]
    source.write_text(json.dumps(records))
    return source


async def demo_command(args: argparse.Namespace, settings: Settings) -> int:
    # What the console channel says while the workflow runs is printed in the section
    # of the step that said it, not ahead of every section.
    with hold_console() as console:
        return await _demo(settings, console)


async def _demo(settings: Settings, console: HeldConsole) -> int:
    from taskrunner.scheduled.workflow import ScheduledTasksWorkflow

    started = datetime.now(UTC)
    print(RULE)
    print("SCHEDULED TASK RUNNER")
    print(RULE)
    print(f"Started at: {started.isoformat(timespec='milliseconds')}\n")
    stamp = started.strftime("%Y%m%dT%H%M%S")
    specs = sample_tasks(write_demo_source(settings))
    async with temporal_session(settings) as session:
        queue = QueueClient(session.client, session.settings, f"demo-{stamp}")
        # Paused until the processor runs, so that run processes and reports them.
        await queue.create(paused=True)
        batch = await queue.enqueue_batch(specs)
        print(f"Task queue initialized with {len(batch.task_ids)} tasks\n", flush=True)
        report = await session.client.execute_workflow(
            ScheduledTasksWorkflow.run,
            ScheduledTasksInput(
                processor=ProcessorInput(queue=queue.name, resume=True),
                maintenance=maintenance_input(settings),
            ),
            id=scheduled_workflow_id(f"demo-{stamp}"),
            task_queue=session.settings.task_queue,
        )
        # Its task queue ends with this command: end the queue too (its history stays).
        await queue.handle.terminate(reason="demo finished")
    print(render_demo(report, dict(zip(batch.task_ids, specs, strict=True)), console))
    return 0 if report.ok else 1


def _action(spec: TaskSpec) -> str:
    p = spec.payload
    if spec.type == "email":
        return f"Sending email to {p['recipient']}..."
    if spec.type == "report":
        return f"Generating report: {p['report_type']}..."
    if spec.type == "dataSync":
        return f"Syncing data from {p['source']}..."
    return f"Running {spec.type}..."


def render_demo(
    report: ScheduledTasksReport, specs: dict[str, TaskSpec], console: HeldConsole | None = None
) -> str:
    """The demo's report, from the real results, with each step's console notifications."""
    from taskrunner.health.workflow import SOURCE as HEALTH
    from taskrunner.maintenance.workflow import SOURCE as MAINTENANCE
    from taskrunner.queue.processor import SOURCE as PROCESSOR

    console = console or HeldConsole()
    health = render_health(report.health, console.take(HEALTH))
    lines = [">>> Running Health Monitor...", "", health, ""]
    lines += [">>> Processing Task Queue...", ""]
    processing = report.processing
    for outcome in processing.result.outcomes:
        lines += [
            f"Processing task {outcome.task_id} ({outcome.type}) - Attempt {n}"
            for n in range(1, max(outcome.attempts, 1) + 1)
        ]
        if outcome.task_id in specs:
            lines.append(_action(specs[outcome.task_id]))
        if outcome.status.value == "completed":
            lines.append(f"✓ Task {outcome.task_id} completed: {outcome.summary}")
        else:
            lines.append(
                f"✗ Task {outcome.task_id} {outcome.status.value} after "
                f"{attempts(outcome.attempts)}: {outcome.error}"
            )
    lines += console.take(queue_workflow_id(processing.queue), PROCESSOR)
    lines.append("")
    lines.append(f"Task processing complete: {processing.processed} tasks processed")
    if processing.stats is not None:
        lines.append(f"Queue stats: {processing.stats.summary_line()}")
    lines += ["", ">>> Running Scheduled Maintenance...", ""]
    maintenance = report.maintenance
    if maintenance is not None and maintenance.status == "skipped":
        lines.append(f"⏰ {SKIP_REASON} (window {maintenance.window} {maintenance.timezone})")
    elif maintenance is not None:
        lines.append("✓ Maintenance window is open")
    notes = console.take(MAINTENANCE)
    lines += notes
    # The outcome, unless a notification above already said it.
    failure = f"Maintenance failed: {report.maintenance_error}"
    if report.maintenance_error and not _said(failure, notes):
        lines.append(f"✗ {failure}")
    elif maintenance is not None and maintenance.summary and not _said(maintenance.summary, notes):
        lines.append(maintenance.summary)
    lines += ["", RULE, "ALL SCHEDULED TASKS COMPLETE", RULE]
    return "\n".join(lines)


def _said(text: str, notes: list[str]) -> bool:
    return any(text in note for note in notes)
