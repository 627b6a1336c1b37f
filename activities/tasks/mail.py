"""Email delivery for the email task: message building, SMTP sending, the .eml outbox."""

from __future__ import annotations

import os
import re
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path

from temporalio.exceptions import ApplicationError

from activities.tasks.common import file_stem, invalid, write_atomically
from taskrunner.models.tasks import EmailPayload
from taskrunner.resource_settings import SmtpSettings

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


class SmtpSender:
    """Sends through the configured SMTP server (blocking; run it in a thread)."""

    def __init__(self, smtp: SmtpSettings) -> None:
        assert smtp.host is not None, "SmtpSender needs smtp.host"
        self._smtp = smtp
        self._host: str = smtp.host

    def _password(self) -> str:
        # Read at send time so the secret never travels through Temporal.
        password = os.environ.get(self._smtp.password_env)
        if password is None:
            raise ApplicationError(
                f"smtp.username is set but the environment variable "
                f"{self._smtp.password_env} (smtp.password_env) holding the password is not",
                type="ConfigurationError",
                non_retryable=True,
            )
        return password

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message``; failures come out as retryable or non-retryable ApplicationErrors."""
        smtp = self._smtp
        context = ssl.create_default_context()
        where = f"SMTP server {self._host}:{smtp.port}"
        try:
            client: smtplib.SMTP
            if smtp.security == "ssl":
                client = smtplib.SMTP_SSL(
                    self._host, smtp.port, timeout=smtp.timeout_seconds, context=context
                )
            else:
                client = smtplib.SMTP(self._host, smtp.port, timeout=smtp.timeout_seconds)
            with client:
                if smtp.security == "starttls":
                    client.starttls(context=context)
                if smtp.username:
                    client.login(smtp.username, self._password())
                client.send_message(message)
        except smtplib.SMTPAuthenticationError as err:
            raise ApplicationError(
                f"{where} rejected the credentials: {err.smtp_code} {_text(err.smtp_error)}",
                type="ConfigurationError",
                non_retryable=True,
            ) from None
        except smtplib.SMTPNotSupportedError as err:
            raise ApplicationError(
                f"{where} does not support this (check smtp.security): {err}",
                type="ConfigurationError",
                non_retryable=True,
            ) from None
        except smtplib.SMTPRecipientsRefused as err:
            codes = [code for code, _ in err.recipients.values()]
            detail = "; ".join(f"{c} {_text(m)}" for c, m in err.recipients.values())
            if all(code >= 500 for code in codes):  # permanent: retrying cannot help
                raise invalid(f"{where} refused recipient {message['To']}: {detail}") from None
            raise ApplicationError(
                f"{where} deferred recipient: {detail}", type="SmtpDeferred"
            ) from None
        except smtplib.SMTPResponseException as err:
            permanent = err.smtp_code >= 500
            raise ApplicationError(
                f"{where} refused the message: {err.smtp_code} {_text(err.smtp_error)}",
                type="EmailRejected" if permanent else "SmtpDeferred",
                non_retryable=permanent,
            ) from None
        except ssl.SSLCertVerificationError as err:
            raise ApplicationError(
                f"{where}: TLS certificate not trusted: {err.verify_message}",
                type="ConfigurationError",
                non_retryable=True,
            ) from None
        except (OSError, smtplib.SMTPException) as err:  # unreachable, timeout, disconnect
            raise ApplicationError(
                f"cannot reach {where}: {err or type(err).__name__}", type="SmtpUnavailable"
            ) from None


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
