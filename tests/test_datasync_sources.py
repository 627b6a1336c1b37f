"""dataSync reads only the folders and URL prefixes its settings allow (data_sync.allowed_*).

Real files, symlinks and a real local HTTP server: a refused source fails in one line naming
the setting to change, reads nothing, writes nothing; at enqueue the payload model refuses
what the source's text alone shows.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError

from taskrunner.errors import ConfigError, UserError
from taskrunner.queue.models import TaskSpec
from taskrunner.tasks.builtin import payload_context
from taskrunner.tasks.data_sync import DataSyncPayload
from tests.helpers.peers import http_peer
from tests.helpers.queue import QueueHarness
from tests.test_task_data_sync import sqlite_rows, sync

RECORDS = json.dumps([{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}]).encode()
METADATA = "http://169.254.169.254/latest/meta-data/"


def imports(settings: Any) -> Path:
    """The default allowed folder, created."""
    settings.imports_dir.mkdir(parents=True, exist_ok=True)
    return Path(settings.imports_dir)


def private_file(folder: Path) -> Path:
    """A mode-0600 file of records in a mode-0700 folder."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / "secret.json"
    path.write_bytes(RECORDS)
    path.chmod(0o600)
    return path


async def refused(settings: Any, source: str, setting: str) -> str:
    """Run a sync that must be refused; its one-line message, which names ``setting``."""
    with pytest.raises(ApplicationError) as caught:
        await sync(settings, source)
    message = caught.value.message
    assert caught.value.type == "InvalidTaskData" and caught.value.non_retryable, message
    assert setting in message and "\n" not in message, message
    assert not settings.sqlite_path(settings.database).exists()  # no table, not even a file
    return message


def lexically_refused(settings: Any, source: str) -> str:
    """The enqueue-time refusal of ``source`` (what the payload model says)."""
    with pytest.raises(ValidationError) as caught:
        DataSyncPayload.model_validate(
            {"source": source, "destination": "t"}, context=payload_context(settings)
        )
    return str(caught.value.errors()[0]["msg"])


async def test_a_private_file_outside_the_allowed_folder_is_refused(
    settings: Any, tmp_path: Path
) -> None:
    secret = private_file(tmp_path / "elsewhere")
    message = await refused(settings, str(secret), "data_sync.allowed_dirs")
    assert message == (
        f"source {secret} is outside the folders dataSync may read "
        f"(data_sync.allowed_dirs: {imports(settings)})"
    )
    await refused(settings, f"file://{secret}", "data_sync.allowed_dirs")
    await refused(settings, "/etc/passwd", "data_sync.allowed_dirs")


async def test_a_dot_dot_escape_or_a_relative_path_is_refused(settings: Any) -> None:
    private_file(settings.data_dir / "private")
    escape = f"{imports(settings)}/../private/secret.json"
    await refused(settings, escape, "data_sync.allowed_dirs")
    assert "outside the folders" in lexically_refused(settings, escape)
    # Relative to what? The worker's folder is not the caller's: refused, not guessed.
    await refused(settings, "private/secret.json", "data_sync.allowed_dirs")


@pytest.mark.parametrize("link", ["file", "folder"])
async def test_a_symlink_in_the_allowed_folder_pointing_outside_is_refused(
    settings: Any, tmp_path: Path, link: str
) -> None:
    secret = private_file(tmp_path / "elsewhere")
    if link == "file":
        (imports(settings) / "records.json").symlink_to(secret)
        source = imports(settings) / "records.json"
    else:
        (imports(settings) / "shared").symlink_to(secret.parent, target_is_directory=True)
        source = imports(settings) / "shared" / "secret.json"
    # The text is inside the folder (enqueue accepts it); the file it leads to is not.
    assert DataSyncPayload.model_validate(
        {"source": str(source), "destination": "t"}, context=payload_context(settings)
    )
    await refused(settings, str(source), "data_sync.allowed_dirs")


async def test_an_allowed_file_syncs_by_path_and_file_url_and_through_inner_symlinks(
    make_settings: Any, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    settings = make_settings(data_sync={"allowed_dirs": [str(shared)]})
    source = private_file(shared / "team")
    os.symlink(source, shared / "latest.json")  # a link that stays inside is fine
    for form in (str(source), f"file://{source}", str(shared / "latest.json")):
        assert (await sync(settings, form)).details["records_synced"] == 2
    assert sqlite_rows(settings, "SELECT id, name FROM users ORDER BY id") == [
        ("1", "Ada"),
        ("2", "Grace"),
    ]


async def test_a_file_over_the_size_cap_is_refused(make_settings: Any) -> None:
    settings = make_settings(data_sync={"max_source_bytes": len(RECORDS) - 1})
    source = imports(settings) / "big.json"
    source.write_bytes(RECORDS)
    await refused(settings, str(source), "data_sync.max_source_bytes")


async def test_an_allowed_loopback_url_syncs_from_the_checked_address(
    make_settings: Any,
) -> None:
    with http_peer() as peer:
        port = peer.url.rsplit(":", 1)[1]
        named = f"http://localhost:{port}"
        settings = make_settings(data_sync={"allowed_urls": [f"{named}/exports/"]})
        peer.routes["/exports/users.json"] = (200, RECORDS)
        peer.redirects["/exports/old.json"] = "/exports/users.json"  # a hop that stays inside
        result = await sync(settings, f"{named}/exports/old.json")
    assert result.details["records_synced"] == 2
    assert [r.path for r in peer.requests] == ["/exports/old.json", "/exports/users.json"]
    # Sent to the address that was checked, under the host name it was asked for.
    assert {r.headers["Host"] for r in peer.requests} == {f"localhost:{port}"}


@pytest.mark.parametrize("where", ["path", "host"])
async def test_a_redirect_out_of_the_allowed_prefix_is_not_followed(
    make_settings: Any, where: str
) -> None:
    with http_peer() as peer:
        settings = make_settings(data_sync={"allowed_urls": [f"{peer.url}/exports/"]})
        target = f"{peer.url}/secret.json" if where == "path" else METADATA
        peer.redirects["/exports/users.json"] = target
        peer.routes["/secret.json"] = (200, RECORDS)
        message = await refused(
            settings, f"{peer.url}/exports/users.json", "data_sync.allowed_urls"
        )
    assert f"redirected to {target}, which is not under a URL prefix" in message
    assert [r.path for r in peer.requests] == ["/exports/users.json"]


async def test_a_source_redirecting_more_than_five_times_is_refused(make_settings: Any) -> None:
    with http_peer() as peer:
        settings = make_settings(data_sync={"allowed_urls": [f"{peer.url}/"]})
        for hop in range(7):
            peer.redirects[f"/{hop}"] = f"/{hop + 1}"
        with pytest.raises(ApplicationError, match="redirected more than 5 times") as caught:
            await sync(settings, f"{peer.url}/0")
    assert caught.value.non_retryable
    assert [r.path for r in peer.requests] == [f"/{hop}" for hop in range(6)]


async def test_the_metadata_address_is_refused_at_enqueue_and_never_contacted(
    make_settings: Any,
) -> None:
    settings = make_settings(data_sync={"allowed_urls": ["http://", "https://"]})
    assert lexically_refused(settings, METADATA).endswith(
        f"source {METADATA} reaches 169.254.169.254, a link-local address, which dataSync "
        "fetches only from a host named in a URL prefix "
        "(data_sync.allowed_urls: http://, https://)"
    )
    # The worker refuses it too, at once (it would time out if it tried to connect).
    await refused(settings, METADATA, "data_sync.allowed_urls")


async def test_an_unlisted_loopback_url_is_refused_under_a_scheme_wide_prefix(
    make_settings: Any,
) -> None:
    with http_peer() as peer:
        peer.routes["/records.json"] = (200, RECORDS)
        settings = make_settings(data_sync={"allowed_urls": ["http://"]})
        literal = f"{peer.url}/records.json"
        assert "a loopback address" in lexically_refused(settings, literal)
        await refused(settings, literal, "data_sync.allowed_urls")
        # A name is resolved at run time: it resolves to loopback, so it is refused too.
        named = literal.replace("127.0.0.1", "localhost")
        message = await refused(settings, named, "data_sync.allowed_urls")
    assert "a loopback address" in message
    assert peer.requests == []


async def test_an_http_response_over_the_size_cap_is_refused(make_settings: Any) -> None:
    with http_peer() as peer:
        limits = {"allowed_urls": [f"{peer.url}/"], "max_source_bytes": len(RECORDS) - 1}
        settings = make_settings(data_sync=limits)
        peer.routes["/records.json"] = (200, RECORDS)
        await refused(settings, f"{peer.url}/records.json", "data_sync.max_source_bytes")


@pytest.mark.parametrize(
    ("source", "says"),
    [
        ("/etc/passwd", "outside the folders dataSync may read (data_sync.allowed_dirs: "),
        ("file:///root/.ssh/id_rsa", "outside the folders dataSync may read"),
        ("records.json", "is a relative path: give an absolute path inside the folders"),
        ("file://other-host/data/x.json", "names another machine"),
        ("https://api.example.com/users.json", "(data_sync.allowed_urls: http://127.0.0.1:"),
        ("http://127.0.0.1:8080/exports/../secret.json", "not under a URL prefix"),
        ("http://127.0.0.1:8080/exports/%2e%2e/secret.json", "not under a URL prefix"),
        ("http://127.0.0.1:8081/exports/users.json", "not under a URL prefix"),
        ("http://user:pw@127.0.0.1:8080/exports/users.json", "user info"),
    ],
)
def test_the_payload_refuses_at_enqueue_what_the_text_shows(
    make_settings: Any, source: str, says: str
) -> None:
    settings = make_settings(data_sync={"allowed_urls": ["http://127.0.0.1:8080/exports/"]})
    assert says in lexically_refused(settings, source)
    # Without the settings (the activity's own parse) the text passes: the worker checks.
    assert DataSyncPayload.model_validate({"source": source, "destination": "t"})


def test_the_payload_accepts_at_enqueue_what_the_settings_allow(make_settings: Any) -> None:
    settings = make_settings(data_sync={"allowed_urls": ["https://", "http://127.0.0.1:8080/x"]})
    context = payload_context(settings)
    for source in (
        str(settings.imports_dir / "users.json"),
        "https://api.example.com/users.json",
        "HTTP://127.0.0.1:8080/x/users.json",
    ):
        assert DataSyncPayload.model_validate(
            {"source": source, "destination": "t"}, context=context
        )


async def test_the_queue_refuses_the_metadata_address_at_enqueue(queue: QueueHarness) -> None:
    spec = TaskSpec(type="dataSync", payload={"source": METADATA, "destination": "t"})
    with pytest.raises(UserError, match=r"not under a URL prefix .*allowed_urls: none"):
        await queue.queue.enqueue(spec)


def test_settings_default_to_the_imports_folder_no_url_and_16_mib(make_settings: Any) -> None:
    settings = make_settings()
    policy = payload_context(settings)["data_sync_policy"]
    assert policy["dirs"] == [str(settings.imports_dir)] and policy["urls"] == []
    assert settings.data_sync.max_source_bytes == 16 * 1024 * 1024
    assert (
        payload_context(make_settings(data_sync={"allowed_dirs": []}))["data_sync_policy"]["dirs"]
        == []
    )


@pytest.mark.parametrize(
    "prefix", ["ftp://host/", "api.example.com", "https://u:p@host/", "https://host/?q=1"]
)
def test_a_malformed_url_prefix_is_a_one_line_settings_error(
    make_settings: Any, prefix: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        make_settings(data_sync={"allowed_urls": ["https://", prefix]})
    message = str(caught.value)
    assert message.startswith("invalid setting TASKRUNNER_DATA_SYNC__ALLOWED_URLS"), message
    assert "is not a URL prefix" in message or "give a path only" in message
    assert "\n" not in message
