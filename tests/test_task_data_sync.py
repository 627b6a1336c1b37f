"""The dataSync task: JSON records from HTTP or a file, upserted into SQLite and PostgreSQL."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

import psycopg
import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from taskrunner.tasks.data_sync import DataSyncPayload, DataSyncTask
from taskrunner.tasks.declare import task_activity
from taskrunner.tasks.registry import TaskActivityInput
from tests.helpers import free_port
from tests.helpers.peers import http_peer

POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"

USERS: list[dict[str, Any]] = [
    {"id": 1, "name": "Ada", "email": "ada@example.com"},
    {"id": 2, "name": "Grace", "email": "grace@example.com", "tags": ["admin", "ops"]},
    {"id": "3", "name": "Linus", "email": None},
]


async def sync(settings: Any, source: str, table: str = "users", **env: Any) -> Any:
    task = TaskActivityInput(
        task_id="s-1", payload={"source": source, "destination": table, "key": "id"}
    )
    environment = ActivityEnvironment()
    for name, value in env.items():
        setattr(environment, name, value)
    return await environment.run(task_activity(DataSyncTask, settings), task)


def allowing(make_settings: Any, url: str, **overrides: Any) -> Any:
    """Settings under which dataSync may fetch from ``url`` (a local peer: named explicitly)."""
    return make_settings(data_sync={"allowed_urls": [f"{url}/"]}, **overrides)


def sqlite_rows(settings: Any, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(settings.sqlite_path(settings.database)) as conn:
        return conn.execute(sql).fetchall()


async def test_data_sync_upserts_http_records_into_sqlite_without_duplicates(
    make_settings: Any,
) -> None:
    with http_peer() as peer:
        settings = allowing(make_settings, peer.url)
        peer.routes["/records.json"] = (200, json.dumps(USERS).encode())
        first = await sync(settings, f"{peer.url}/records.json")
        changed = [{**USERS[0], "name": "Ada Lovelace"}, {"id": 4, "name": "Barbara", "team": "db"}]
        peer.routes["/records.json"] = (200, json.dumps(changed).encode())
        second = await sync(settings, f"{peer.url}/records.json")

    assert first.details["records_synced"] == 3 and second.details["records_synced"] == 2
    assert first.summary == f"Synced 3 records from {peer.url}/records.json into users"
    rows = sqlite_rows(settings, "SELECT id, name, email, tags, team FROM users ORDER BY id")
    assert rows == [
        ("1", "Ada Lovelace", "ada@example.com", None, None),
        ("2", "Grace", "grace@example.com", '["admin", "ops"]', None),
        ("3", "Linus", None, None, None),
        ("4", "Barbara", None, None, "db"),
    ]


async def test_data_sync_upserts_into_postgresql_with_json_columns(make_settings: Any) -> None:
    table = f"users_{uuid.uuid4().hex[:10]}"
    try:
        with http_peer() as peer:
            database = {"kind": "postgres", "dsn": POSTGRES_DSN}
            settings = allowing(make_settings, peer.url, database=database)
            peer.routes["/records.json"] = (200, json.dumps(USERS).encode())
            await sync(settings, f"{peer.url}/records.json", table)
            update = [{"id": 2, "name": "Grace Hopper", "tags": {"role": "admiral"}}]
            peer.routes["/records.json"] = (200, json.dumps(update).encode())
            await sync(settings, f"{peer.url}/records.json", table)
        with psycopg.connect(POSTGRES_DSN) as conn:
            rows = conn.execute(f"SELECT id, name, email, tags FROM {table} ORDER BY id").fetchall()
            tags_type = conn.execute(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = %s AND column_name = 'tags'",
                (table,),
            ).fetchone()
    finally:
        with psycopg.connect(POSTGRES_DSN, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
    assert tags_type == ("jsonb",)
    assert rows == [
        ("1", "Ada", "ada@example.com", None),
        ("2", "Grace Hopper", "grace@example.com", {"role": "admiral"}),
        ("3", "Linus", None, None),
    ]


async def test_data_sync_reads_a_file_path_and_heartbeats_progress(make_settings: Any) -> None:
    settings = make_settings(data_sync={"batch_size": 10})
    source = settings.imports_dir / "records.json"  # the folder files are read from by default
    source.parent.mkdir(parents=True)
    source.write_text(json.dumps([{"id": i, "value": i * i} for i in range(25)]))
    heartbeats: list[Any] = []
    result = await sync(settings, str(source), "squares", on_heartbeat=heartbeats.append)
    assert result.details["records_synced"] == 25
    assert sqlite_rows(settings, "SELECT count(*), max(CAST(value AS INTEGER)) FROM squares") == [
        (25, 576)
    ]
    progress = [h for h in heartbeats if h["stage"] == "write"]
    assert [p["synced"] for p in progress][-3:] == [10, 20, 25]
    assert progress[-1]["total"] == 25


@pytest.mark.parametrize("status", [404, 501])
async def test_data_sync_from_a_missing_url_is_a_non_retryable_error(
    make_settings: Any, status: int
) -> None:
    # 501 Not Implemented is a 5xx that no retry changes: final, like a 404.
    with http_peer() as peer:
        settings = allowing(make_settings, peer.url)
        peer.routes["/gone.json"] = (status, b"no")
        with pytest.raises(ApplicationError) as caught:
            await sync(settings, f"{peer.url}/gone.json")
    assert caught.value.type == "InvalidTaskData" and caught.value.non_retryable
    assert f"HTTP {status}" in str(caught.value)
    assert not settings.sqlite_path(settings.database).exists()  # nothing was written


async def test_data_sync_retries_a_source_that_is_down(make_settings: Any) -> None:
    with http_peer() as peer:
        peer.routes["/records.json"] = (503, b"maintenance")
        with pytest.raises(ApplicationError) as unavailable:
            await sync(allowing(make_settings, peer.url), f"{peer.url}/records.json")
    nobody = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ApplicationError) as refused:
        await sync(allowing(make_settings, nobody), f"{nobody}/records.json")
    for caught in (unavailable, refused):
        assert caught.value.type == "SourceUnavailable" and not caught.value.non_retryable


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"id": 1}', "holds a JSON dict, not an array of records"),
        (b"<html>oops</html>", "is not JSON"),
        (b'[{"id": 1}, "two"]', "record 1 is a JSON str, not an object"),
        (b'[{"id": 1}, {"name": "no key"}]', "record 1 has no usable 'id' (key) value"),
        (b'[{"id": 1, "x\\"; DROP TABLE users; --": 1}]', "cannot be a column name"),
    ],
)
async def test_data_sync_rejects_bad_records_non_retryably(
    make_settings: Any, body: bytes, message: str
) -> None:
    with http_peer() as peer:
        settings = allowing(make_settings, peer.url)
        peer.routes["/records.json"] = (200, body)
        with pytest.raises(ApplicationError) as caught:
            await sync(settings, f"{peer.url}/records.json")
    assert caught.value.type == "InvalidTaskData" and caught.value.non_retryable
    assert message in str(caught.value)
    assert not settings.sqlite_path(settings.database).exists()  # nothing was written


async def test_data_sync_from_a_missing_file_is_a_non_retryable_error(settings: Any) -> None:
    with pytest.raises(ApplicationError) as caught:
        await sync(settings, str(settings.imports_dir / "nope.json"))
    assert caught.value.non_retryable and "does not exist" in str(caught.value)


def test_data_sync_payload_rejects_unsafe_names_and_schemes() -> None:
    with pytest.raises(ValidationError, match="destination"):
        DataSyncPayload(source="/tmp/x.json", destination="users; DROP TABLE x")
    with pytest.raises(ValidationError, match="ftp://"):
        DataSyncPayload(source="ftp://host/x.json", destination="users")
