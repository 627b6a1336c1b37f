"""The state budget: what a queue carries over continue-as-new stays far below Temporal's limit.

Continue-as-new carries the queue's whole state as one payload; over the server's
payload limit (2 MiB) the SDK refuses the command and the queue stops for good.
Enqueue validators therefore refuse work that would take the encoded snapshot
over ``QueueConfig.state_budget_bytes``. Measuring the snapshot means encoding it,
so the budget keeps an upper bound instead: the last measured size plus a
worst-case allowance for every task added since. When that bound reaches the
budget the state is measured again (and the bound becomes exact).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from taskrunner.queue.models import QueueConfig, TaskSpec

CONTINUE_AS_NEW_LIMIT = 1_900_000
"""Largest snapshot (bytes) a queue passes to continue-as-new; the server refuses a 2 MiB
payload. At continue-as-new, finished-task memory is shed to stay under it (see state)."""
RECORD_ALLOWANCE = 600
"""Worst-case bytes of one task record besides its payload: ids, timestamps, counters, and
the last error (kept to ``MAX_ERROR_CHARS``)."""
WORST_RATIO = 4 / 3
"""Encoded bytes per raw JSON byte at worst: deflate stores it as is, base64 adds a third."""
MEASURE_EVERY = timedelta(seconds=1)
"""Least workflow time between two measurements of the state."""
RECORD_BYTES = 64
"""What one task record adds to the encoded snapshot besides its payload, compressed."""
MAX_ERROR_CHARS = 300
"""Longest error text a task record keeps (the start of the message)."""


def json_size(value: Any) -> int:
    """Bytes of ``value`` as compact JSON: how every size limit of the queue is measured."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def encoded_growth(raw_bytes: int) -> int:
    """Most that ``raw_bytes`` of JSON can add to the snapshot: deflate at worst stores
    them as they are, and base64 makes four bytes of every three."""
    return raw_bytes * 4 // 3 + 8


def request_growth(specs: Sequence[TaskSpec]) -> int:
    """About what enqueueing ``specs`` adds to the snapshot: their payloads and keys as the
    snapshot compresses them, plus ``RECORD_BYTES`` each.

    An estimate, not a bound: the budget measures the state again once its bound is
    reached, and continue-as-new's own limit sits far above the largest budget.
    """
    data = [(spec.payload, spec.key) for spec in specs]
    packed = zlib.compress(json.dumps(data, separators=(",", ":")).encode(), 1)
    return encoded_growth(len(packed)) + RECORD_BYTES * len(specs)


class StateBudget:
    """An estimate of the encoded snapshot's size, kept as tasks are added.

    After a measurement the estimate is exact; each task added since counts its raw JSON
    bytes times twice the compression ratio last measured (never more than the worst
    case). The state is measured again when the estimate reaches the budget, at most once
    a second of workflow time (measuring encodes the whole state) unless the estimate has
    doubled since the last measurement.
    """

    def __init__(self, measured: int = 0) -> None:
        self.measured = measured
        """Bytes of the encoded snapshot when last measured."""
        self.unmeasured = 0
        """Raw JSON bytes added since that measurement."""
        self.ratio = WORST_RATIO
        """Encoded bytes per raw byte assumed for what was added since."""
        self.measured_at: datetime | None = None

    @property
    def bound(self) -> int:
        return self.measured + int(self.unmeasured * self.ratio)

    def added(self, payload_bytes: int) -> None:
        self.unmeasured += payload_bytes + RECORD_ALLOWANCE

    def fits(
        self,
        incoming: int,
        config: QueueConfig,
        measure: Callable[[], tuple[int, int]],
        now: datetime,
    ) -> bool:
        """Whether ``incoming`` more bytes fit; measures the state when the estimate is tight.

        ``measure`` returns the encoded and the raw size of the state. Only validators
        call this: a measurement changes the estimate, never the queue.
        """
        if self.bound + incoming <= config.state_budget_bytes:
            return True
        stale = self.measured_at is None or now - self.measured_at >= MEASURE_EVERY
        # A batch producer adds thousands of tasks within one second of workflow time, and
        # their estimate reaches the budget long before the state does: measure again once
        # the estimate has grown by what was last measured (doubling keeps the cost of all
        # measurements in proportion to the state's size).
        outgrown = self.unmeasured * self.ratio >= self.measured
        if stale or outgrown:
            encoded, raw = measure()
            self.measured, self.unmeasured, self.measured_at = encoded, 0, now
            self.ratio = min(WORST_RATIO, 2 * encoded / max(raw, 1))
        return self.bound + incoming <= config.state_budget_bytes
