"""The runner keeps its embedded Temporal server alive: a server that dies is restarted.

The server keeps its state in its SQLite file, so a restart on the same file loses
nothing; the worker's connection recovers by itself once the port answers again.
After :data:`MAX_FAILED_STARTS` failed starts in a row the runner gives up with a
non-zero status, so systemd or Docker can act.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from taskrunner.devserver import DevServer
from taskrunner.errors import UserError

CHECK_INTERVAL = 0.5
"""Seconds between two looks at the server process."""
RESTART_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Seconds before each restart try in a row (the last one repeats)."""
MAX_FAILED_STARTS = 5
"""Failed starts in a row before the runner gives up."""
GAVE_UP = 1
"""The runner's exit status when its server cannot be brought back."""


async def supervise(server: DevServer, say: Callable[[str], None]) -> int:
    """Watch ``server`` and restart it whenever it exits; returns :data:`GAVE_UP` if it
    could not be restarted. Cancel the task to stop watching (before stopping the server)."""
    while True:
        # A cheap poll of the child (a waiting thread could not be cancelled).
        while server.running():  # noqa: ASYNC110
            await asyncio.sleep(CHECK_INTERVAL)
        down_since = time.monotonic()
        say(
            f"Temporal server exited unexpectedly (status {server.returncode}); "
            f"restarting it on {server.database}"
        )
        if not await _restart(server, say):
            return GAVE_UP
        say(f"Temporal server is back after {time.monotonic() - down_since:.1f} s")


async def _restart(server: DevServer, say: Callable[[str], None]) -> bool:
    for attempt in range(MAX_FAILED_STARTS):
        await asyncio.sleep(RESTART_DELAYS[min(attempt, len(RESTART_DELAYS) - 1)])
        try:
            await server.start_async()
            return True
        except UserError as err:
            say(f"Temporal server restart {attempt + 1} of {MAX_FAILED_STARTS} failed: {err}")
    say(f"giving up: the Temporal server did not start {MAX_FAILED_STARTS} times in a row")
    return False
