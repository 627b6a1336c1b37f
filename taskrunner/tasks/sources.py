"""Where the dataSync task reads records: an HTTP(S) URL or a file holding a JSON array.

Only what the settings allow (``data_sync.allowed_dirs`` and ``allowed_urls``, see
source_policy.py), checked on what the source really is: a file by its real path, as
opened; a URL by every address its host resolves to (the request goes to the address
checked, so the name cannot resolve elsewhere in between) and again at each redirect.
A refused source is read from not at all.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import ipaddress
import json
import os
import socket
import stat
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import httpx
from temporalio.exceptions import ApplicationError

from taskrunner.errors import RETRYABLE_HTTP_STATUS, SOURCE_UNAVAILABLE, invalid_task_data
from taskrunner.tasks.source_policy import (
    DEFAULT_PORTS,
    IPAddress,
    SourcePolicy,
    SourceRefused,
    Url,
    inside,
    source_scheme,
)

if TYPE_CHECKING:
    from taskrunner.settings import Settings

MAX_REDIRECTS = 5
"""Redirects followed, each checked like the source itself, before the source is refused."""
SIZE_SETTING = "data_sync.max_source_bytes"


class RecordSource:
    """Reads and checks a source's records (a JSON array of objects)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._limit = settings.data_sync.max_source_bytes
        self._timeout = httpx.Timeout(settings.data_sync.http_timeout_seconds)

    async def read(self, source: str) -> list[dict[str, Any]]:
        """The source's records; bad data raises a non-retryable error, an outage a retryable
        one, and so does a source the settings do not allow, naming the setting."""
        # Built per read: the folders' symlinks are resolved as they are now.
        policy = SourcePolicy.from_settings(self._settings)
        try:
            if source_scheme(source) in DEFAULT_PORTS:
                data = await self._fetch(policy, source)
            else:
                data = await asyncio.to_thread(read_file, policy, source, self._limit)
        except SourceRefused as err:
            raise invalid_task_data(str(err)) from None
        return _records(source, data)

    async def _fetch(self, policy: SourcePolicy, source: str) -> bytes:
        url, subject = source, f"source {source}"
        try:
            # No proxy from the environment: it would connect to hosts the policy never saw.
            async with httpx.AsyncClient(
                timeout=self._timeout, follow_redirects=False, trust_env=False
            ) as client:
                for _ in range(MAX_REDIRECTS + 1):
                    response = await _send(client, policy, url, subject)
                    try:
                        if not response.has_redirect_location:
                            return await self._body(url, response)
                        url = urljoin(url, response.headers["location"])
                        subject = f"source {source} redirected to {url}, which"
                    finally:
                        await response.aclose()
        except httpx.InvalidURL as err:
            raise invalid_task_data(f"source {url} is not a valid URL: {err}") from None
        except httpx.HTTPError as err:  # connect, read, timeout: the source may come back
            raise ApplicationError(
                f"cannot read source {url}: {err or type(err).__name__}", type=SOURCE_UNAVAILABLE
            ) from None
        raise invalid_task_data(f"source {source} redirected more than {MAX_REDIRECTS} times")

    async def _body(self, url: str, response: httpx.Response) -> bytes:
        if response.status_code >= 400:
            message = f"source {url} answered HTTP {response.status_code}"
            if response.status_code in RETRYABLE_HTTP_STATUS:
                raise ApplicationError(message, type=SOURCE_UNAVAILABLE)
            raise invalid_task_data(message)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._limit:
            raise _too_large(url, self._limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._limit:
                raise _too_large(url, self._limit)
            chunks.append(chunk)
        return b"".join(chunks)


async def _send(
    client: httpx.AsyncClient, policy: SourcePolicy, url: str, subject: str
) -> httpx.Response:
    """GET ``url`` once it passes the policy, from an address that was checked."""
    target, public_only = policy.check_url(url, subject)
    addresses = await _addresses(target, url)
    if public_only:
        policy.check_addresses(target, addresses, subject)
    named = httpx.URL(url)
    headers = {"Accept": "application/json", "Host": named.netloc.decode("ascii")}
    # TLS still verifies the certificate against the host name, not the address.
    extensions = {"sni_hostname": named.host} if target.scheme == "https" else {}
    failure: httpx.ConnectError | None = None
    for address in addresses:
        pinned = named.copy_with(host=str(address))
        request = client.build_request("GET", pinned, headers=headers, extensions=extensions)
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError as err:  # the next address may answer
            failure = err
    assert failure is not None  # getaddrinfo gives at least one address
    raise failure


async def _addresses(target: Url, url: str) -> list[IPAddress]:
    if target.address is not None:
        return [target.address]
    loop = asyncio.get_running_loop()
    try:
        found = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except socket.gaierror as err:  # DNS may be down for a while: retried
        raise ApplicationError(
            f"cannot read source {url}: host {target.host} does not resolve ({err.strerror})",
            type=SOURCE_UNAVAILABLE,
        ) from None
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in found))


def read_file(policy: SourcePolicy, source: str, limit: int) -> bytes:
    """A file source's bytes, when its real path (as opened) is in an allowed folder."""
    path = policy.file_path(source)
    real = os.path.realpath(path)
    if not inside(real, list(policy.real_dirs)):
        policy.refuse_path(source)
    missing = invalid_task_data(f"source file {path} does not exist (or is not a file)")
    try:
        # No following a symlink swapped in since: the last part must still be the file.
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        raise missing from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            policy.refuse_path(source)
        raise invalid_task_data(f"cannot read source file {path}: {err.strerror}") from None
    try:
        # ... nor a folder above it swapped for a symlink: where the kernel opened counts.
        if not inside(_opened_path(fd), list(policy.real_dirs)):
            policy.refuse_path(source)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise missing
        if info.st_size > limit:
            raise _too_large(str(path), limit)
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > limit:  # it grew since fstat
                raise _too_large(str(path), limit)
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as err:
        raise invalid_task_data(f"cannot read source file {path}: {err.strerror}") from None
    finally:
        os.close(fd)


def _opened_path(fd: int) -> str:
    """The path of an open file, as the kernel resolved it when opening."""
    get_path = getattr(fcntl, "F_GETPATH", None)  # macOS; Linux has /proc
    if get_path is not None:
        return os.fsdecode(fcntl.fcntl(fd, get_path, bytes(1024))).rstrip("\0")
    return os.readlink(f"/proc/self/fd/{fd}")


def _too_large(source: str, limit: int) -> ApplicationError:
    return invalid_task_data(f"source {source} is larger than {limit} bytes ({SIZE_SETTING})")


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
