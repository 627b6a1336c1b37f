"""The SMTP sender keeps its connection for the next message, and replaces one the
server closed before anything is sent on it (a real aiosmtpd server)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from taskrunner import smtp
from taskrunner.settings.resources import SmtpSettings
from taskrunner.smtp import SmtpSender
from tests.helpers.smtp_receiver import smtp_receiver


def message(n: int) -> EmailMessage:
    built = EmailMessage()
    built["From"], built["To"], built["Subject"] = "runner@example.com", "ops@example.com", f"#{n}"
    built.set_content(f"message {n}")
    return built


def sender(port: int) -> SmtpSender:
    return SmtpSender(SmtpSettings(host="127.0.0.1", port=port), timeout_seconds=10)


def test_messages_share_one_connection() -> None:
    with smtp_receiver() as box:
        send = sender(box.port)
        for n in range(5):
            send.send(message(n))
        send.close()
    assert [m["Subject"] for m in box.messages] == [f"#{n}" for n in range(5)]
    assert box.connections == 1


def test_a_connection_the_server_dropped_is_replaced_before_sending() -> None:
    with smtp_receiver() as box:
        send = sender(box.port)
        send.send(message(1))
    # The server is gone (its connections with it), and back on the same port.
    with smtp_receiver(port=box.port) as again:
        send.send(message(2))
        send.close()
    assert [m["Subject"] for m in box.messages] == ["#1"]
    assert [m["Subject"] for m in again.messages] == ["#2"]
    assert again.data_commands == 1  # offered once: nothing was sent on the dead one


def test_an_idle_connection_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(smtp, "KEEP_OPEN_SECONDS", 0.0)
    with smtp_receiver() as box:
        send = sender(box.port)
        for n in range(3):
            send.send(message(n))
    assert len(box.messages) == 3 and box.connections == 3
