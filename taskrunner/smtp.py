"""The one SMTP sender: the email task and the email notification channel both use it."""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage

from temporalio.exceptions import ApplicationError

from taskrunner.errors import (
    CONFIGURATION_ERROR,
    EMAIL_REJECTED,
    SMTP_DEFERRED,
    SMTP_UNAVAILABLE,
    invalid_task_data,
)
from taskrunner.settings.resources import SmtpSettings


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
                type=CONFIGURATION_ERROR,
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
                type=CONFIGURATION_ERROR,
                non_retryable=True,
            ) from None
        except smtplib.SMTPNotSupportedError as err:
            raise ApplicationError(
                f"{where} does not support this (check smtp.security): {err}",
                type=CONFIGURATION_ERROR,
                non_retryable=True,
            ) from None
        except smtplib.SMTPRecipientsRefused as err:
            codes = [code for code, _ in err.recipients.values()]
            detail = "; ".join(f"{c} {_text(m)}" for c, m in err.recipients.values())
            if all(code >= 500 for code in codes):  # permanent: retrying cannot help
                raise invalid_task_data(
                    f"{where} refused recipient {message['To']}: {detail}"
                ) from None
            raise ApplicationError(
                f"{where} deferred recipient: {detail}", type=SMTP_DEFERRED
            ) from None
        except smtplib.SMTPResponseException as err:
            permanent = err.smtp_code >= 500
            raise ApplicationError(
                f"{where} refused the message: {err.smtp_code} {_text(err.smtp_error)}",
                type=EMAIL_REJECTED if permanent else SMTP_DEFERRED,
                non_retryable=permanent,
            ) from None
        except ssl.SSLCertVerificationError as err:
            raise ApplicationError(
                f"{where}: TLS certificate not trusted: {err.verify_message}",
                type=CONFIGURATION_ERROR,
                non_retryable=True,
            ) from None
        except (OSError, smtplib.SMTPException) as err:  # unreachable, timeout, disconnect
            raise ApplicationError(
                f"cannot reach {where}: {err or type(err).__name__}", type=SMTP_UNAVAILABLE
            ) from None


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
