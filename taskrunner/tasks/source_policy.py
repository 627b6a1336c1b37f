"""Which sources the dataSync task may read: folders for files, URL prefixes for HTTP(S).

These rules touch neither the file system nor the network, so the payload model can
apply them at enqueue, inside the workflow sandbox, to what the source's text alone says.
The worker's :class:`~taskrunner.tasks.sources.RecordSource` applies them again to what
the text leads to: the real path after symlinks, the addresses a host name resolves to,
every redirect.

A URL prefix is ``scheme://host[:port]/path``: URLs of that scheme, host and port whose
path lies in that path, segment by segment. ``https://`` or ``http://`` alone admits
any host of that scheme whose addresses are all public; an address that is not public
(loopback, private, link-local as the cloud metadata service, ...) is reached only
through a prefix naming its host.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import posixpath
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from taskrunner.settings import Settings

DATA_SYNC_POLICY = "data_sync_policy"
"""Validation context key: the dataSync policy, as :meth:`SourcePolicy.context` gives it."""
DIRS_SETTING = "data_sync.allowed_dirs"
URLS_SETTING = "data_sync.allowed_urls"
DEFAULT_PORTS = {"http": 80, "https": 443}
SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
"""A source starting so is a URL (``file://``, ``http://``, ...); anything else is a path."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")
SHARED = ipaddress.ip_network("100.64.0.0/10")


class SourceRefused(ValueError):
    """A source the policy does not allow; the message names the setting that would."""


def source_scheme(source: str) -> str | None:
    """The source's URL scheme, lower-case (``http``, ``file``, ...); None for a path."""
    found = SCHEME.match(source)
    return found.group(1).lower() if found else None


def address_kind(address: IPAddress) -> str | None:
    """What makes an address not public (``loopback``, ``private``, ...); None: public.

    An IPv6 address carrying an IPv4 one (mapped, 6to4, Teredo, NAT64) is judged by it.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if address.teredo:
            embedded = address.teredo[1]
        if address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and (kind := address_kind(embedded)) is not None:
            return kind
    for kind, flag in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("shared (CGNAT)", isinstance(address, ipaddress.IPv4Address) and address in SHARED),
        ("private", address.is_private),
        ("reserved", address.is_reserved or not address.is_global),
    ):
        if flag:
            return kind
    return None


@dataclass(frozen=True)
class Url:
    """An http(s) URL as the policy compares it."""

    scheme: str
    host: str
    """Lower case, without a trailing dot; an IP address in its canonical form."""
    port: int
    segments: tuple[str, ...]
    """The path decoded and normalised: no empty, ``.`` or ``..`` segment."""

    @property
    def address(self) -> IPAddress | None:
        """The host when it is an IP address."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse_url(text: str) -> Url:
    """``text`` as a :class:`Url`; ValueError saying why it cannot be one."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as err:
        raise ValueError(str(err)) from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError("the scheme must be http or https")
    if "@" in parts.netloc:
        raise ValueError("user info (user:password@) is not allowed")
    host = parts.hostname or ""
    host = host[:-1] if host.endswith(".") else host  # example.com. is example.com
    if not host:
        raise ValueError("it has no host")
    with contextlib.suppress(ValueError):  # a name, not an address
        host = str(ipaddress.ip_address(host))
    port = DEFAULT_PORTS[scheme] if port is None else port
    return Url(scheme, host, port, _segments(parts.path))


def _segments(path: str) -> tuple[str, ...]:
    # Decoded first, so that %2e%2e is the .. a server may take it for; a backslash is a
    # separator to some servers, so it is one here too.
    kept: list[str] = []
    for segment in re.split(r"[/\\]", unquote(path)):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment not in ("", "."):
            kept.append(segment)
    return tuple(kept)


@dataclass(frozen=True)
class UrlPrefix:
    """One entry of ``data_sync.allowed_urls``."""

    scheme: str
    url: Url | None
    """None: the scheme alone, any host whose addresses are all public."""

    @classmethod
    def parse(cls, text: str) -> UrlPrefix:
        """The prefix ``text`` names; ValueError saying how it is malformed."""
        scheme = source_scheme(text)
        if scheme in DEFAULT_PORTS and text.lower() == f"{scheme}://":
            return cls(scheme, None)
        if "?" in text or "#" in text:
            raise ValueError(f"URL prefix {text!r} has a query or fragment; give a path only")
        try:
            return cls(scheme or "", parse_url(text))
        except ValueError as err:
            raise ValueError(
                f"{text!r} is not a URL prefix (scheme://host[:port]/path, or https:// "
                f"or http:// alone): {err}"
            ) from None

    def names(self, url: Url) -> bool:
        """Whether this prefix names ``url``'s host and port and holds its path."""
        mine = self.url
        return (
            mine is not None
            and (mine.scheme, mine.host, mine.port) == (url.scheme, url.host, url.port)
            and url.segments[: len(mine.segments)] == mine.segments
        )


def check_prefix(text: str) -> str:
    """A settings validator: ``text`` unchanged when it is a well-formed URL prefix."""
    UrlPrefix.parse(text)
    return text


def inside(path: str, folders: list[str]) -> bool:
    """Whether the absolute normalised ``path`` is one of ``folders`` or below one."""
    return any(path == folder or path.startswith(folder.rstrip("/") + "/") for folder in folders)


@dataclass(frozen=True)
class SourcePolicy:
    """Where dataSync may read, as plain data (it travels in a validation context)."""

    dirs: tuple[str, ...]
    """The allowed folders, absolute and normalised, as shown in messages."""
    real_dirs: tuple[str, ...]
    """The same with symlinks resolved: a real path must lie in one of these."""
    urls: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> SourcePolicy:
        """The policy the settings give (this resolves the folders' symlinks)."""
        configured = settings.data_sync.allowed_dirs
        folders = [settings.imports_dir] if configured is None else configured
        dirs = tuple(os.path.abspath(folder.expanduser()) for folder in folders)
        real = tuple(os.path.realpath(folder) for folder in dirs)
        return cls(dirs, real, tuple(settings.data_sync.allowed_urls))

    def context(self) -> dict[str, Any]:
        return {"dirs": list(self.dirs), "real_dirs": list(self.real_dirs), "urls": list(self.urls)}

    @classmethod
    def from_context(cls, data: dict[str, Any]) -> SourcePolicy:
        return cls(tuple(data["dirs"]), tuple(data["real_dirs"]), tuple(data["urls"]))

    def check(self, source: str) -> None:
        """Refuse what the source's text alone shows to be outside the policy."""
        if source_scheme(source) in DEFAULT_PORTS:
            self.check_url(source, f"source {source}")
        else:
            self.file_path(source)

    def file_path(self, source: str) -> str:
        """The absolute normalised path a file source names, when it is in an allowed folder."""
        path = source
        if source_scheme(source) == "file":
            parts = urlsplit(source)
            if parts.netloc not in ("", "localhost"):
                raise SourceRefused(f"source {source} names another machine; give a local path")
            path = unquote(parts.path)
        if "\0" in path:
            raise SourceRefused(f"source {source!r} holds a NUL character")
        if not path.startswith("/"):
            raise SourceRefused(
                f"source {source} is a relative path: give an absolute path inside the "
                f"folders dataSync may read ({DIRS_SETTING}: {_listed(self.dirs)})"
            )
        normal = "/" + posixpath.normpath(path).lstrip("/")
        if not inside(normal, [*self.dirs, *self.real_dirs]):
            self.refuse_path(source)
        return normal

    def refuse_path(self, source: str) -> NoReturn:
        raise SourceRefused(
            f"source {source} is outside the folders dataSync may read "
            f"({DIRS_SETTING}: {_listed(self.dirs)})"
        )

    def check_url(self, text: str, subject: str) -> tuple[Url, bool]:
        """``text`` parsed, and whether only public addresses may serve it (no prefix names
        its host). ``subject`` starts each refusal: ``source <url>``, or the redirect."""
        try:
            url = parse_url(text)
        except ValueError as err:
            raise SourceRefused(f"{subject} is not a URL dataSync can fetch: {err}") from None
        prefixes = [UrlPrefix.parse(prefix) for prefix in self.urls]
        if any(prefix.names(url) for prefix in prefixes):
            return url, False
        if not any(prefix.url is None and prefix.scheme == url.scheme for prefix in prefixes):
            raise SourceRefused(
                f"{subject} is not under a URL prefix dataSync may fetch "
                f"({URLS_SETTING}: {_listed(self.urls)})"
            )
        if url.address is not None:
            self.check_addresses(url, [url.address], subject)
        return url, True

    def check_addresses(self, url: Url, addresses: list[IPAddress], subject: str) -> None:
        """Refuse a URL taken by a scheme-only prefix whose host has a non-public address."""
        for address in addresses:
            kind = address_kind(address)
            if kind is not None:
                raise SourceRefused(
                    f"{subject} reaches {address}, a {kind} address, which dataSync fetches "
                    f"only from a host named in a URL prefix ({URLS_SETTING}: "
                    f"{_listed(self.urls)})"
                )


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(values) or "none"
