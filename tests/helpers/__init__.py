"""Shared test helpers: free ports, local peers, eventually-assertions."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from taskrunner.devserver import quiet_port

T = TypeVar("T")


def free_port() -> int:
    """A free loopback port the kernel will not hand out to bind(0) meanwhile (a dev
    server's internal services draw theirs so): see :func:`quiet_port`."""
    return quiet_port("127.0.0.1")


async def assert_eventually(
    check: Callable[[], Awaitable[T]], timeout: float = 30.0, interval: float = 0.1
) -> T:
    """Await ``check`` until it stops raising AssertionError (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(interval)


async def wait_for_output(capsys: Any, text: str, timeout: float = 30.0) -> str:
    """Captured stdout once it contains ``text``.

    Notifications are sent by their own activity, after the state change a test
    observes, so their console line can arrive a moment later.
    """
    seen = ""

    async def check() -> str:
        nonlocal seen
        seen += capsys.readouterr().out
        assert text in seen, f"{text!r} not printed; got: {seen[-2000:]!r}"
        return seen

    return await assert_eventually(check, timeout=timeout)
