"""The email task: SMTP delivery to a real server, the .eml outbox default, and its errors."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from taskrunner.errors import (
    CONFIGURATION_ERROR,
    INVALID_TASK_DATA,
    SMTP_UNAVAILABLE,
)
from taskrunner.tasks.declare import task_activity
from taskrunner.tasks.email import EmailPayload, EmailTask
from taskrunner.tasks.registry import TaskActivityInput
from tests.helpers import free_port
from tests.helpers.smtp_receiver import (
    Security,
    count_tls_contexts,
    smtp_receiver,
    trusted_smtp_receiver,
)

# aiosmtpd warns when AUTH runs without TLS; these tests do that on purpose, on loopback.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

EMAIL = {"recipient": "admin@example.com", "subject": "Daily report", "body": "All green.\n"}


async def run(emailer: Any, task_id: str = "t-1", payload: Any = None) -> Any:
    task = TaskActivityInput(task_id=task_id, payload=payload or EMAIL)
    return await ActivityEnvironment().run(emailer, task)


async def send(settings: Any, task_id: str = "t-1", payload: Any = None) -> Any:
    return await run(task_activity(EmailTask, settings), task_id, payload)


async def test_email_task_sends_through_smtp_with_the_task_message_id(make_settings: Any) -> None:
    with smtp_receiver() as peer:
        settings = make_settings(smtp={"host": peer.host, "port": peer.port})
        result = await send(settings, task_id="abc-42")
    assert result.summary == "Email sent to admin@example.com"
    assert result.details["message_id"] == "<task-abc-42@taskrunner>"
    [received] = peer.messages
    assert peer.recipients == [["admin@example.com"]]
    assert peer.senders == [settings.smtp.from_address]
    assert received["Subject"] == "Daily report"
    assert received["Message-ID"] == result.details["message_id"]
    assert received.get_content().replace("\r\n", "\n") == "All green.\n"
    assert not settings.outbox_dir.exists()


async def test_email_task_logs_in_with_the_password_from_the_environment(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_SECRET", "s3cret")
    with smtp_receiver(username="mailer", password="s3cret") as peer:
        settings = make_settings(
            smtp={
                "host": peer.host,
                "port": peer.port,
                "username": "mailer",
                "password_env": "TEST_SMTP_SECRET",
            }
        )
        result = await send(settings)
    assert peer.logins == [("mailer", "s3cret")]
    assert [m["Message-ID"] for m in peer.messages] == [result.details["message_id"]]


@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
async def test_email_task_with_an_unset_or_empty_password_variable_fails_non_retryably(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("TEST_SMTP_SECRET", raising=False)
    else:
        monkeypatch.setenv("TEST_SMTP_SECRET", value)
    with smtp_receiver(username="mailer", password="s3cret") as peer:
        caught = await login_failure(make_settings, peer)
    assert caught.type == CONFIGURATION_ERROR and caught.non_retryable
    assert "TEST_SMTP_SECRET" in str(caught) and "unset or empty" in str(caught)
    assert peer.messages == [] and peer.logins == []


async def login_failure(make_settings: Any, peer: Any) -> ApplicationError:
    """The error of sending as ``mailer`` with the password in TEST_SMTP_SECRET."""
    settings = make_settings(
        smtp={
            "host": peer.host,
            "port": peer.port,
            "username": "mailer",
            "password_env": "TEST_SMTP_SECRET",
        }
    )
    with pytest.raises(ApplicationError) as caught:
        await send(settings)
    return caught.value


async def test_email_task_with_a_wrong_password_fails_non_retryably(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_SECRET", "wrong")
    with smtp_receiver(username="mailer", password="s3cret") as peer:
        caught = await login_failure(make_settings, peer)
    assert caught.type == CONFIGURATION_ERROR and caught.non_retryable
    assert "rejected the credentials" in str(caught)
    assert peer.messages == []


async def test_email_task_upgrades_to_starttls_and_verifies_the_certificate(
    make_settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_SECRET", "s3cret")
    with trusted_smtp_receiver("starttls", tmp_path, monkeypatch, "mailer", "s3cret") as peer:
        smtp = {"host": peer.host, "port": peer.port, "security": "starttls"}
        auth = {"username": "mailer", "password_env": "TEST_SMTP_SECRET"}
        result = await send(make_settings(smtp={**smtp, **auth}))
    assert [m["Message-ID"] for m in peer.messages] == [result.details["message_id"]]
    assert peer.logins == [("mailer", "s3cret")]


@pytest.mark.parametrize(("security", "contexts"), [("none", 0), ("starttls", 1), ("ssl", 1)])
async def test_email_task_builds_one_tls_context_for_many_messages_and_none_without_tls(
    make_settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    security: Security,
    contexts: int,
) -> None:
    with trusted_smtp_receiver(security, tmp_path, monkeypatch) as peer:
        calls = count_tls_contexts(monkeypatch)  # after the receiver built its own
        settings = make_settings(smtp={"host": peer.host, "port": peer.port, "security": security})
        emailer = task_activity(EmailTask, settings)
        results = [await run(emailer, task_id=f"t-{n}") for n in range(3)]
    assert [m["Message-ID"] for m in peer.messages] == [r.details["message_id"] for r in results]
    assert calls.count == contexts


async def test_email_task_writes_a_parseable_eml_file_without_smtp(settings: Any) -> None:
    result = await send(settings, task_id="t-7")
    path = Path(result.details["path"])
    assert path.parent == settings.outbox_dir
    assert result.details["via"] == "outbox"
    assert "admin@example.com" in result.summary
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "admin@example.com"
    assert message["From"] == settings.smtp.from_address
    assert message["Subject"] == "Daily report"
    assert message["Message-ID"] == result.details["message_id"] == "<task-t-7@taskrunner>"
    assert message["Date"] is not None
    assert message.get_content().replace("\r\n", "\n") == "All green.\n"


async def test_email_task_retry_keeps_the_message_id_and_one_outbox_file(settings: Any) -> None:
    first = await send(settings, task_id="task/9")
    second = await send(settings, task_id="task/9", payload={**EMAIL, "body": "second try"})
    assert first.details["message_id"] == second.details["message_id"]
    assert first.details["path"] == second.details["path"]
    [only] = list(settings.outbox_dir.iterdir())
    assert "second try" in only.read_text()


async def test_email_task_unreachable_server_is_retryable(make_settings: Any) -> None:
    settings = make_settings(smtp={"host": "127.0.0.1", "port": free_port(), "timeout_seconds": 5})
    with pytest.raises(ApplicationError) as caught:
        await send(settings)
    assert caught.value.type == SMTP_UNAVAILABLE and not caught.value.non_retryable


async def test_email_task_rejects_a_bad_payload_non_retryably(settings: Any) -> None:
    with pytest.raises(ApplicationError) as caught:
        await send(settings, payload={"recipient": "not-an-address", "subject": "x"})
    assert caught.value.type == INVALID_TASK_DATA and caught.value.non_retryable
    assert "recipient" in str(caught.value)
    assert not settings.outbox_dir.exists()


@pytest.mark.parametrize(
    ("field", "value", "why"),
    [
        ("recipient", "admin@example.com,root", "is not one email address"),
        ("recipient", "admin@example.com root@example.com", "is not one email address"),
        ("recipient", ["ok@example.com", "root"], "'root' is not one email address"),
        ("subject", "Report\r\nBcc: everyone@example.com", "a subject is one line"),
        ("subject", "Report\nX-Injected: 1", "a subject is one line"),
    ],
)
def test_header_injection_and_address_lists_are_refused_by_the_model(
    field: str, value: Any, why: str
) -> None:
    payload = {"recipient": "admin@example.com", "subject": "Report", field: value}
    with pytest.raises(ValidationError, match=why):
        EmailPayload.model_validate(payload)


async def test_a_list_of_recipients_reaches_each_of_them(make_settings: Any) -> None:
    with smtp_receiver() as peer:
        settings = make_settings(smtp={"host": peer.host, "port": peer.port})
        payload = {"recipient": ["a@example.com", "b@example.org"], "subject": "Both"}
        result = await send(settings, payload=payload)
    assert peer.recipients == [["a@example.com", "b@example.org"]]
    assert result.summary == "Email sent to a@example.com, b@example.org"
