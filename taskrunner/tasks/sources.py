"""Where the dataSync task reads records: an HTTP(S) URL or a file holding a JSON array."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import httpx
from temporalio.exceptions import ApplicationError

from taskrunner.errors import SOURCE_UNAVAILABLE, invalid_task_data
from taskrunner.settings.resources import DataSyncSettings

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
"""HTTP statuses that say "try again later"; any other error status is final."""


class RecordSource:
    """Reads and checks a source's records (a JSON array of objects)."""

    def __init__(self, settings: DataSyncSettings) -> None:
        self._settings = settings

    async def read(self, source: str) -> list[dict[str, Any]]:
        """The source's records; bad data raises a non-retryable error, an outage a retryable one."""
        if source.startswith(("http://", "https://")):
            data = await self._fetch(source)
        else:
            data = await asyncio.to_thread(self._read_file, source)
        return _records(source, data)

    async def _fetch(self, url: str) -> bytes:
        limit = self._settings.max_source_bytes
        timeout = httpx.Timeout(self._settings.http_timeout_seconds)
        try:
            async with (
                httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client,
                client.stream("GET", url, headers={"Accept": "application/json"}) as response,
            ):
                if response.status_code >= 400:
                    message = f"source {url} answered HTTP {response.status_code}"
                    if response.status_code in RETRYABLE_STATUS:
                        raise ApplicationError(message, type=SOURCE_UNAVAILABLE)
                    raise invalid_task_data(message)
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise invalid_task_data(f"source {url} is larger than {limit} bytes")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.InvalidURL as err:
            raise invalid_task_data(f"source {url} is not a valid URL: {err}") from None
        except httpx.HTTPError as err:  # connect, read, timeout: the source may come back
            raise ApplicationError(
                f"cannot read source {url}: {err or type(err).__name__}", type=SOURCE_UNAVAILABLE
            ) from None

    def _read_file(self, source: str) -> bytes:
        path = Path(unquote(urlparse(source).path) if source.startswith("file://") else source)
        path = path.expanduser()
        if not path.is_file():
            raise invalid_task_data(f"source file {path} does not exist (or is not a file)")
        if path.stat().st_size > self._settings.max_source_bytes:
            raise invalid_task_data(
                f"source file {path} is larger than {self._settings.max_source_bytes} bytes"
            )
        try:
            return path.read_bytes()
        except OSError as err:
            raise invalid_task_data(f"cannot read source file {path}: {err.strerror}") from None


def _records(source: str, data: bytes) -> list[dict[str, Any]]:
    try:
        parsed = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise invalid_task_data(f"source {source} is not JSON: {err}") from None
    if not isinstance(parsed, list):
        raise invalid_task_data(
            f"source {source} holds a JSON {type(parsed).__name__}, not an array of records"
        )
    for index, record in enumerate(parsed):
        if not isinstance(record, dict):
            raise invalid_task_data(
                f"source {source}: record {index} is a JSON {type(record).__name__}, not an object"
            )
    return parsed
