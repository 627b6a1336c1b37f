"""Payload encryption on the dev server: nothing in clear in history, keys rotate, the
codec server decodes what history holds (and asks for a token beyond loopback)."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.client import Client, WorkflowHistory

from taskrunner.client import connect
from taskrunner.devserver import DevServer
from taskrunner.encryption import PayloadKeyError, converter_for, new_key_line
from taskrunner.encryption.server import codec_server
from taskrunner.errors import ConfigError
from taskrunner.queue.client import QueueClient
from taskrunner.queue.models import TaskSpec
from tests.helpers import free_port
from tests.helpers.payloads import payloads_in, payloads_in_event

KEY_ENV = "TASKRUNNER_ENCRYPTION_KEYS"
RECIPIENT = "grace.hopper@navy.example"
SUBJECT = "Quarterly-launch-codes"


async def histories(raw: Client, task_queue: str) -> list[WorkflowHistory]:
    """Every workflow run on the task queue, read with a client that has no codec."""
    found = [
        await raw.get_workflow_handle(w.id, run_id=w.run_id).fetch_history()
        async for w in raw.list_workflows(f'TaskQueue = "{task_queue}"')
    ]
    assert found, "no workflow ran on the task queue"
    return found


async def run_email_task(make_settings: Any, make_worker: Any, dev_server: DevServer) -> Any:
    settings = make_settings(server_port=dev_server.port)
    client = await connect(settings, dev_server.address)
    async with make_worker(client, settings):
        queue = QueueClient(client, settings, settings.task_queue)
        done = await queue.enqueue(
            TaskSpec(
                type="email", payload={"recipient": RECIPIENT, "subject": SUBJECT, "body": "x"}
            )
        )
        await queue.drain()
        record = await queue.show(done.task_id)
    return settings, client, record


async def test_with_a_key_history_holds_no_recipient_or_subject_and_the_task_completes(
    make_settings: Any, make_worker: Any, dev_server: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, new_key_line("k1"))
    settings, _, record = await run_email_task(make_settings, make_worker, dev_server)
    assert record.status == "completed", record
    assert RECIPIENT in record.result.summary  # our client decrypts
    assert (settings.outbox_dir / f"task-{record.id}.eml").read_text().count(SUBJECT) == 1

    raw = await Client.connect(dev_server.address)
    for history in await histories(raw, settings.task_queue):
        text = history.to_json()
        assert RECIPIENT not in text and SUBJECT not in text, history.workflow_id
        kinds = {p.metadata.get("encoding") for p in payloads_in(history)}
        assert kinds == {b"binary/encrypted"}, (history.workflow_id, kinds)


async def test_after_rotating_to_a_new_key_old_histories_still_decode(
    make_settings: Any, make_worker: Any, dev_server: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = new_key_line("old")
    monkeypatch.setenv(KEY_ENV, old)
    settings, _, record = await run_email_task(make_settings, make_worker, dev_server)

    monkeypatch.setenv(KEY_ENV, f"{old},{new_key_line('new')}")
    rotated = await connect(settings, dev_server.address)
    queue = QueueClient(rotated, settings, settings.task_queue)
    async with make_worker(rotated, settings):  # it replays the old history to answer
        assert (await queue.show(record.id)).result == record.result
        await queue.enqueue(
            TaskSpec(type="email", payload={"recipient": RECIPIENT, "subject": "s", "body": "y"})
        )
        await queue.drain()
    raw = await Client.connect(dev_server.address)
    history = await raw.get_workflow_handle(queue.handle.id).fetch_history()
    carrying = [found for event in history.events if (found := payloads_in_event(event))]
    first, last = carrying[0], carrying[-1]
    assert {p.metadata.get("encryption-key-id") for p in first} == {b"old"}
    assert {p.metadata.get("encryption-key-id") for p in last} == {b"new"}  # the newest key

    monkeypatch.setenv(KEY_ENV, new_key_line("new"))  # the old key dropped too soon
    with pytest.raises(PayloadKeyError, match="encrypted with key 'old', which is not in"):
        await converter_for(settings.encryption).decode(first)


async def test_the_codec_server_decodes_history_and_wants_a_token_beyond_loopback(
    make_settings: Any, make_worker: Any, dev_server: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, new_key_line("k1"))
    settings, _, _ = await run_email_task(make_settings, make_worker, dev_server)
    raw = await Client.connect(dev_server.address)
    sealed = [p for h in await histories(raw, settings.task_queue) for p in payloads_in(h)]
    body = json.dumps({"payloads": [MessageToDict(p) for p in sealed]}).encode()

    with codec_server(settings, port=free_port()) as local:
        status, answer = post(f"{local.url}/decode", body)
    assert status == 200
    assert any(RECIPIENT in base64.b64decode(p["data"]).decode() for p in answer["payloads"])

    with pytest.raises(ConfigError, match="beyond loopback, without a token"):
        codec_server(settings, host="0.0.0.0", port=free_port())
    monkeypatch.setenv("TASKRUNNER_CODEC_TOKEN", "s3cret-token")
    with codec_server(settings, host="0.0.0.0", port=free_port()) as exposed:
        url = exposed.url.replace("0.0.0.0", "127.0.0.1") + "/decode"
        assert post(url, body)[0] == 401
        assert post(url, body, token="wrong")[0] == 401
        assert post(url, body, token="s3cret-token")[0] == 200


def post(url: str, body: bytes, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", "X-Namespace": "default"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, None


def test_the_codec_server_encodes_with_the_newest_key_and_decodes_its_own_output(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, f"{new_key_line('old')},{new_key_line('new')}")
    settings = make_settings()
    secret = json.dumps({"recipient": RECIPIENT, "subject": SUBJECT}).encode()
    sent = {"payloads": [{"metadata": {"encoding": b64(b"json/plain")}, "data": b64(secret)}]}
    body = json.dumps(sent).encode()

    with codec_server(settings, port=free_port()) as local:
        status, encoded = post(f"{local.url}/encode", body)
        assert status == 200
        [sealed] = encoded["payloads"]
        assert sealed["metadata"] == {
            "encoding": b64(b"binary/encrypted"),
            "encryption-key-id": b64(b"new"),
        }
        text = json.dumps(encoded)
        assert RECIPIENT not in text and SUBJECT not in text and b64(secret) not in text
        assert secret not in base64.b64decode(sealed["data"])
        status, decoded = post(f"{local.url}/decode", json.dumps(encoded).encode())
    assert status == 200
    assert decoded == sent


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
