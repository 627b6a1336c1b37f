"""The ``email`` task type: one email, by SMTP or into the .eml outbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from temporalio import activity

from activities.tasks.common import parse_payload
from activities.tasks.mail import Outbox, SmtpSender, build_message
from taskrunner.models.tasks import EmailPayload, TaskActivityInput, TaskResult
from taskrunner.settings import Settings


class EmailTask:
    """The task_email activity. SMTP when ``smtp.host`` is set, else the outbox folder."""

    def __init__(self, settings: Settings) -> None:
        self._from = settings.smtp.from_address
        self._sender = SmtpSender(settings.smtp) if settings.smtp.host else None
        self._outbox = Outbox(settings.outbox_dir)

    @activity.defn(name="task_email")
    async def task_email(self, task: TaskActivityInput) -> TaskResult:
        payload = parse_payload(EmailPayload, task)
        activity.logger.info(f"Sending email to {payload.recipient}...")
        message = build_message(payload, task.task_id, self._from, datetime.now(UTC))
        details = {"message_id": message["Message-ID"], "recipient": payload.recipient}
        if self._sender is not None:
            await asyncio.to_thread(self._sender.send, message)
            return TaskResult(
                summary=f"Email sent to {payload.recipient}", details={**details, "via": "smtp"}
            )
        path = await asyncio.to_thread(self._outbox.write, message, task.task_id)
        return TaskResult(
            summary=f"Email to {payload.recipient} written to the outbox ({path.name})",
            details={**details, "via": "outbox", "path": str(path)},
        )
