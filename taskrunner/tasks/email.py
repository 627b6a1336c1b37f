"""The ``email`` task type: one email, by SMTP or into the .eml outbox."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from pydantic import Field
from temporalio import activity

from taskrunner.settings import Settings
from taskrunner.smtp import SmtpSender
from taskrunner.tasks.common import file_stem, write_atomically
from taskrunner.tasks.declare import TaskContext, task_type
from taskrunner.tasks.registry import TaskPayload, TaskResult


class EmailPayload(TaskPayload):
    recipient: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)
    subject: str = Field(min_length=1, max_length=998)
    body: str = Field(default="", max_length=1_000_000)


MESSAGE_ID_DOMAIN = "taskrunner"
"""Right-hand side of the Message-IDs the email task generates."""


def message_id(task_id: str) -> str:
    """The Message-ID of a task's email: the same on every attempt, so a resend is recognisable."""
    left = re.sub(r"\.{2,}", ".", file_stem(task_id))
    return f"<task-{left}@{MESSAGE_ID_DOMAIN}>"


def build_message(
    payload: EmailPayload, task_id: str, from_address: str, now: datetime
) -> EmailMessage:
    """The RFC 5322 message for one email task."""
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = payload.recipient
    message["Subject"] = payload.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(task_id)
    message["X-Taskrunner-Task"] = task_id
    message.set_content(payload.body)
    return message


class Outbox:
    """The embedded default: one .eml file per task in a folder, named by the task id."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def path_for(self, task_id: str) -> Path:
        return self._directory / f"task-{file_stem(task_id)}.eml"

    def write(self, message: EmailMessage, task_id: str) -> Path:
        """Write the message (CRLF line endings, as on the wire); a retry overwrites it."""
        path = self.path_for(task_id)
        write_atomically(path, message.as_bytes(policy=SMTP))
        return path


@task_type("email", payload=EmailPayload, timeout=timedelta(seconds=60))
class EmailTask:
    """The task_email activity. SMTP when ``smtp.host`` is set, else the outbox folder."""

    def __init__(self, settings: Settings) -> None:
        smtp = settings.smtp
        self._from = smtp.from_address
        self._sender = SmtpSender(smtp, smtp.timeout_seconds) if smtp.host else None
        self._outbox = Outbox(settings.outbox_dir)

    async def run(self, payload: EmailPayload, ctx: TaskContext) -> TaskResult:
        activity.logger.info(f"Sending email to {payload.recipient}...")
        message = build_message(payload, ctx.task_id, self._from, datetime.now(UTC))
        details = {"message_id": message["Message-ID"], "recipient": payload.recipient}
        if self._sender is not None:
            await asyncio.to_thread(self._sender.send, message)
            return TaskResult(
                summary=f"Email sent to {payload.recipient}", details={**details, "via": "smtp"}
            )
        path = await asyncio.to_thread(self._outbox.write, message, ctx.task_id)
        return TaskResult(
            summary=f"Email to {payload.recipient} written to the outbox ({path.name})",
            details={**details, "via": "outbox", "path": str(path)},
        )
