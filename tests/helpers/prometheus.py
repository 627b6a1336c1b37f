"""Scrape a Prometheus endpoint the way Prometheus does, and read samples from it."""

from __future__ import annotations

import asyncio
import re
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

SAMPLE = re.compile(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')

Samples = list[tuple[str, dict[str, str], float]]


def scrape_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


async def scrape(url: str) -> Samples:
    """Every sample served at ``url``: (name, labels, value)."""
    text = await asyncio.to_thread(scrape_text, url)
    samples = []
    for line in text.splitlines():
        found = SAMPLE.match(line)
        if found and not line.startswith("#"):
            name, labels, value = found.groups()
            samples.append((name, dict(LABEL.findall(labels or "")), float(value)))
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum over the series of ``name`` having ``labels`` (others may have more)."""
    return sum(
        v
        for n, have, v in samples
        if n == name and all(have.get(k) == w for k, w in labels.items())
    )


@contextmanager
def listening() -> Iterator[int]:
    """A loopback port something listens on (a service a probe finds up)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]
