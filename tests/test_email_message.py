"""The email task's messages: built with the runner's message policy (cheaper), they are
byte for byte the messages the standard policy builds."""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any

import pytest

from taskrunner.smtp import MESSAGE_POLICY, new_message
from taskrunner.tasks.email import EmailPayload, build_message

NOW = datetime(2026, 12, 8, 3, 4, 5, tzinfo=UTC)
CASES = [
    {"recipient": "ops@example.com", "subject": "Nightly backup done", "body": "All good.\n"},
    {"recipient": ["a@example.com", "b@example.org"], "subject": "Two", "body": ""},
    {"recipient": "x@example.com", "subject": "Grüße aus Köln", "body": "Grüße\n"},
    {"recipient": "long.name.of.someone@a-rather-long-domain.example.com", "subject": "s" * 90},
    {"recipient": "x@example.com", "subject": "=?utf-8?q?encoded?= word", "body": "x" * 2000},
    {"recipient": "x@example.com", "subject": 'two  spaces, a (comment) and "quotes"'},
    {"recipient": ["a@example.com"] * 8, "subject": "many recipients fold the To line"},
    {"recipient": "ünï@exämple.com", "subject": "an international address"},
]


def _standard(payload: EmailPayload, task_id: str) -> EmailMessage:
    """The same message as build_message, under the standard policy."""
    message = EmailMessage(policy=email.policy.default)
    reference = build_message(payload, task_id, "runner@example.com", NOW)
    for name, value in reference.items():
        if name.lower() not in {"content-type", "content-transfer-encoding", "mime-version"}:
            message[name] = str(value)
    message.set_content(payload.body)
    return message


@pytest.mark.parametrize("fields", CASES)
def test_messages_are_byte_for_byte_those_of_the_standard_policy(fields: dict[str, Any]) -> None:
    payload = EmailPayload.model_validate(fields)
    ours = build_message(payload, "q/task-7", "runner@example.com", NOW)
    assert ours.policy is MESSAGE_POLICY
    assert ours.as_bytes(policy=SMTP) == _standard(payload, "q/task-7").as_bytes(policy=SMTP)
    assert ours.as_string() == _standard(payload, "q/task-7").as_string()


def test_a_plain_header_read_back_is_parsed() -> None:
    message = new_message()
    message["To"] = "a@example.com, b@example.org"
    message["Subject"] = "hello"
    assert [a.addr_spec for a in message["To"].addresses] == ["a@example.com", "b@example.org"]
    assert message["Subject"] == "hello" and message["Subject"].name == "Subject"
    with pytest.raises(ValueError, match="at most 1 To"):
        message["To"] = "c@example.com"
