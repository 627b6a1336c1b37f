"""The ``dataSync`` task type: upsert a source's records into a table, by key."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from pydantic import Field, ValidationInfo, field_validator
from temporalio import activity

from taskrunner.databases import (
    IDENTIFIER,
    ColumnKind,
    open_database,
)
from taskrunner.errors import invalid_task_data
from taskrunner.settings import Settings
from taskrunner.tasks.common import (
    heartbeating,
)
from taskrunner.tasks.declare import TaskContext, task_type
from taskrunner.tasks.registry import TaskPayload, TaskResult
from taskrunner.tasks.source_policy import DATA_SYNC_POLICY, SourcePolicy, source_scheme
from taskrunner.tasks.sources import RecordSource


class DataSyncPayload(TaskPayload):
    source: str = Field(min_length=1, max_length=2048)
    """An http(s) URL under a prefix of ``data_sync.allowed_urls``, or the absolute path (or
    ``file://`` URL) of a file in a folder of ``data_sync.allowed_dirs``, holding a JSON
    array of records. A relative path is refused: the worker's folder is not the caller's."""
    destination: str = Field(min_length=1, max_length=63, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Table the records are upserted into."""
    key: str = Field(default="id", max_length=63, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """Field of every record (and primary-key column of the table) records are matched by."""

    @field_validator("source")
    @classmethod
    def _known_scheme(cls, source: str) -> str:
        scheme = source_scheme(source)
        if scheme is not None and scheme not in ("http", "https", "file"):
            raise ValueError(f"source must be an http(s) URL or a file path, not {scheme}://")
        return source

    @field_validator("source")
    @classmethod
    def _allowed(cls, source: str, info: ValidationInfo) -> str:
        # Checked when the caller knows the settings' policy (context), e.g. at enqueue; on
        # the text alone (this runs in the workflow sandbox): the worker checks the rest.
        policy = (info.context or {}).get(DATA_SYNC_POLICY)
        if policy is not None:
            SourcePolicy.from_context(policy).check(source)
        return source


def prepare(
    records: list[dict[str, Any]], key: str
) -> tuple[list[dict[str, Any]], dict[str, ColumnKind]]:
    """Records deduplicated by key (the last wins) and the columns they need.

    A column is JSON when any record holds an object or array in it, text otherwise.
    """
    by_key: dict[str, dict[str, Any]] = {}
    columns: dict[str, ColumnKind] = {key: "text"}
    for index, record in enumerate(records):
        value = record.get(key)
        if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
            raise invalid_task_data(f"record {index} has no usable {key!r} (key) value: {value!r}")
        for name, field in record.items():
            if not IDENTIFIER.fullmatch(name):
                raise invalid_task_data(
                    f"record {index} has field {name!r}, which cannot be a column name "
                    "(letters, digits and _, not starting with a digit, at most 63)"
                )
            if isinstance(field, dict | list):
                columns[name] = "json"
            else:
                columns.setdefault(name, "text")
        by_key[str(value)] = {**record, key: str(value)}
    return list(by_key.values()), columns


@task_type(
    "dataSync",
    payload=DataSyncPayload,
    timeout=timedelta(minutes=30),
    heartbeat=timedelta(seconds=30),
)
class DataSyncTask:
    """The task_data_sync activity: source -> configured database."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._source = RecordSource(settings)
        self._batch_size = settings.data_sync.batch_size

    async def run(self, payload: DataSyncPayload, ctx: TaskContext) -> TaskResult:
        activity.logger.info(f"Syncing data from {payload.source}...")
        progress: dict[str, Any] = {"stage": "read", "synced": 0, "total": None}
        async with heartbeating(lambda: dict(progress)):
            records, columns = prepare(await self._source.read(payload.source), payload.key)
            progress.update(stage="write", total=len(records))
            kinds = columns
            if records:
                kinds = await self._write(payload, records, columns, progress)
        return TaskResult(
            summary=f"Synced {len(records)} records from {payload.source} "
            f"into {payload.destination}",
            details={
                "records_synced": len(records),
                "destination": payload.destination,
                "key": payload.key,
                "columns": list(kinds),
            },
        )

    async def _write(
        self,
        payload: DataSyncPayload,
        records: list[dict[str, Any]],
        columns: dict[str, ColumnKind],
        progress: dict[str, Any],
    ) -> dict[str, ColumnKind]:
        """Upsert in committed batches, heartbeating progress after each."""
        database = open_database(self._settings.database, self._settings)
        session = await asyncio.to_thread(database.connect)
        try:
            # One engine call, atomic there: syncs started together into one new table,
            # each bringing other columns, would otherwise create it or add to it over
            # each other. An existing column keeps its kind.
            kinds = await asyncio.to_thread(
                session.ensure_table, payload.destination, payload.key, columns
            )
            for start in range(0, len(records), self._batch_size):
                batch = records[start : start + self._batch_size]
                await asyncio.to_thread(
                    session.upsert, payload.destination, payload.key, kinds, batch
                )
                progress["synced"] = start + len(batch)
                activity.heartbeat(dict(progress))
        finally:
            await asyncio.to_thread(session.close)
        return kinds
