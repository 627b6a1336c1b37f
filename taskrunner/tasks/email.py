"""The ``email`` task type: one email, by SMTP or into the .eml outbox."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from pydantic import Field, field_validator
from temporalio import activity

from taskrunner.settings import Settings
from taskrunner.smtp import SmtpSender, new_message
from taskrunner.tasks.common import file_stem, write_atomically
from taskrunner.tasks.declare import TaskContext, task_type
from taskrunner.tasks.registry import TaskPayload, TaskResult

_PART = r'[^@\s,;:<>()\[\]"\\]+'
ADDRESS = re.compile(rf"^{_PART}@{_PART}\.{_PART}$")
"""One bare address: no list separators, brackets, quotes or spaces (``a@b.c,root`` is two)."""
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_RECIPIENTS = 100


class EmailPayload(TaskPayload):
    recipient: str | list[str]
    """One address, or a list of them; each one bare address."""
    subject: str = Field(min_length=1, max_length=998)
    body: str = Field(default="", max_length=1_000_000)

    @field_validator("recipient")
    @classmethod
    def _addresses(cls, value: str | list[str]) -> str | list[str]:
        for address in [value] if isinstance(value, str) else value:
            if len(address) > 320 or not ADDRESS.match(address):
                raise ValueError(
                    f"{address!r} is not one email address (for several, give a list: "
                    '["a@example.com", "b@example.com"])'
                )
        if not value:
            raise ValueError("at least one address")
        if isinstance(value, list) and len(value) > MAX_RECIPIENTS:
            raise ValueError(f"at most {MAX_RECIPIENTS} addresses")
        return value

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if CONTROL.search(value):
            raise ValueError("a subject is one line: no line breaks or control characters")
        return value

    @property
    def recipients(self) -> list[str]:
        return [self.recipient] if isinstance(self.recipient, str) else list(self.recipient)


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
    message = new_message()
    message["From"] = from_address
    message["To"] = ", ".join(payload.recipients)
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


@task_type("email", payload=EmailPayload, timeout=timedelta(seconds=60), bundle=30)
class EmailTask:
    """The task_email activity. SMTP when ``smtp.host`` is set, else the outbox folder."""

    def __init__(self, settings: Settings) -> None:
        smtp = settings.smtp
        self._from = smtp.from_address
        self._sender = SmtpSender(smtp, smtp.timeout_seconds) if smtp.host else None
        self._outbox = Outbox(settings.outbox_dir)

    async def run(self, payload: EmailPayload, ctx: TaskContext) -> TaskResult:
        to = ", ".join(payload.recipients)
        activity.logger.info(f"Sending email to {to}...")
        message = build_message(payload, ctx.task_id, self._from, datetime.now(UTC))
        details = {"message_id": message["Message-ID"], "recipient": to}
        if self._sender is not None:
            await asyncio.to_thread(self._sender.send, message)
            return TaskResult(summary=f"Email sent to {to}", details={**details, "via": "smtp"})
        path = await asyncio.to_thread(self._outbox.write, message, ctx.task_id)
        return TaskResult(
            summary=f"Email to {to} written to the outbox ({path.name})",
            details={**details, "via": "outbox", "path": str(path)},
        )
