"""Issue 16 as a user meets it: an encrypted ``taskrunner run`` whose web UI decrypts
through its codec server, the codec server's refusals, and a refused dataSync source."""

from __future__ import annotations

import asyncio
import base64
import json
import urllib.request
from pathlib import Path

import pytest
from google.protobuf.json_format import MessageToDict
from temporalio.client import Client

from taskrunner.encryption import new_key_line
from taskrunner.encryption.keys import parse_keys
from tests.helpers import free_port
from tests.helpers.cli import run_cli
from tests.helpers.payloads import payloads_in
from tests.helpers.terminal import running_runner

pytestmark = pytest.mark.devserver

RECIPIENT = "ada.lovelace@engine.example"
SUBJECT = "Analytical-engine-notes"


def get_json(url: str, body: bytes | None = None, **headers: str) -> tuple[dict[str, str], object]:
    request = urllib.request.Request(url, data=body, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(response.headers), json.loads(response.read())


async def test_an_encrypted_runner_stores_nothing_in_clear_and_its_web_ui_decrypts(
    tmp_path: Path,
) -> None:
    codec_port = free_port()
    async with running_runner(
        tmp_path,
        TASKRUNNER_ENCRYPTION_KEYS=new_key_line("k1"),
        TASKRUNNER_ENCRYPTION__CODEC_PORT=str(codec_port),
    ) as runner:
        codec = f"http://127.0.0.1:{codec_port}"
        assert f"Codec:      {codec}" in runner.terminal.output
        ui = f"http://127.0.0.1:{runner.settings.ui_port}"
        _, ui_settings = get_json(f"{ui}/api/v1/settings")
        assert ui_settings["Codec"]["Endpoint"] == codec  # type: ignore[index]

        payload = json.dumps({"recipient": RECIPIENT, "subject": SUBJECT, "body": "hi"})
        sent = await asyncio.to_thread(
            run_cli, "enqueue", "email", "--data", payload, cwd=tmp_path, **runner.env
        )
        assert sent.returncode == 0, sent.stderr
        task_id = sent.stdout.split()[2]
        shown = ""
        for _ in range(60):
            done = await asyncio.to_thread(
                run_cli, "queue", "show", task_id, cwd=tmp_path, **runner.env
            )
            shown = done.stdout
            if "completed" in shown:
                break
            await asyncio.sleep(0.5)
        assert "completed" in shown and RECIPIENT in shown, shown  # the CLI decrypts

        database = (runner.settings.data_dir / "temporal.db").read_bytes()
        assert RECIPIENT.encode() not in database and SUBJECT.encode() not in database

        # What the web UI does: POST a payload from history to the codec, from its origin.
        raw = await Client.connect(f"127.0.0.1:{runner.settings.server_port}")
        history = await raw.get_workflow_handle("task-queue/default").fetch_history()
        sealed = [MessageToDict(p) for p in payloads_in(history)]
        body = json.dumps({"payloads": sealed}).encode()
        headers, decoded = get_json(
            f"{codec}/decode", body, Origin=ui, **{"Content-Type": "application/json"}
        )
        assert headers["Access-Control-Allow-Origin"] == ui
        texts = [base64.b64decode(p["data"]).decode() for p in decoded["payloads"]]  # type: ignore[index]
        assert any(RECIPIENT in text for text in texts), texts


def test_the_codec_server_refuses_to_listen_beyond_loopback_without_a_token(
    tmp_path: Path,
) -> None:
    keyed = {"TASKRUNNER_ENCRYPTION_KEYS": new_key_line("k1")}
    port = str(free_port())
    exposed = run_cli("codec-server", "--host", "0.0.0.0", "--port", port, cwd=tmp_path, **keyed)
    assert exposed.returncode == 2
    assert exposed.stderr.count("\n") == 1
    assert "beyond loopback, without a token; set TASKRUNNER_CODEC_TOKEN" in exposed.stderr

    keyless = run_cli("codec-server", "--port", port, cwd=tmp_path)
    assert keyless.returncode == 2
    assert keyless.stderr == (
        "error: no encryption key is configured: set TASKRUNNER_ENCRYPTION_KEYS or "
        "encryption.key_file (make a key with: taskrunner encryption-key)\n"
    )

    made = run_cli(
        "encryption-key", "--id", "k2", cwd=tmp_path, TASKRUNNER_ENCRYPTION_KEYS="k1:short"
    )
    assert made.returncode == 0, made.stderr  # making a key does not read the configured ones
    assert parse_keys(made.stdout.strip(), "stdout").current == "k2"  # a usable key line
    bad_id = run_cli("encryption-key", "--id", "a b", cwd=tmp_path)
    assert bad_id.returncode == 2
    assert bad_id.stderr == "error: key id 'a b' may hold letters, digits, . _ - only (1 to 64)\n"
    broken = run_cli(
        "codec-server", "--port", port, cwd=tmp_path, TASKRUNNER_ENCRYPTION_KEYS="k1:c2hvcnQ="
    )
    assert broken.returncode == 2
    assert "key 'k1' in $TASKRUNNER_ENCRYPTION_KEYS is not the base64 of 32 bytes" in broken.stderr


def test_a_data_sync_of_a_file_outside_the_allowed_folders_is_refused_at_enqueue(
    tmp_path: Path,
) -> None:
    secret = tmp_path / "private" / "secret.json"
    secret.parent.mkdir()
    secret.write_text('[{"id": 1, "password": "hunter2"}]')
    secret.chmod(0o600)
    payload = json.dumps({"source": str(secret), "destination": "stolen"})
    refused = run_cli("enqueue", "dataSync", "--data", payload, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1, refused.stderr
    assert "data_sync.allowed_dirs" in refused.stderr and str(secret) in refused.stderr
    listed = run_cli("queue", "list", cwd=tmp_path)
    assert "does not exist yet" in listed.stderr, listed  # nothing was enqueued
