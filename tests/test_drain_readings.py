"""How often a drain reads its queue: rarely while much is left, soon before the end."""

from __future__ import annotations

from taskrunner.queue.client import DRAIN_POLL, next_reading
from taskrunner.queue.models import DrainResult

SHORTEST, LONGEST = DRAIN_POLL


def reading(waiting: int, completed: int) -> DrainResult:
    return DrainResult(up_to_seq=1000, done=not waiting, waiting=waiting, completed=completed)


def test_a_busy_queue_is_read_at_most_every_longest_wait() -> None:
    # 50 of 1,000 finished in 0.2 s: the rest takes 3.8 s, far beyond the longest wait.
    assert next_reading(reading(1000, 0), reading(950, 50), 0.2, SHORTEST) == LONGEST


def test_near_the_end_the_wait_is_half_what_is_left() -> None:
    # 100 finished in 0.5 s (200/s): the 40 left take 0.2 s; read again in 0.1 s.
    wait = next_reading(reading(140, 860), reading(40, 960), 0.5, LONGEST)
    assert abs(wait - 0.1) < 1e-9
    assert next_reading(reading(2, 998), reading(1, 999), 0.01, 0.1) == SHORTEST


def test_while_nothing_finishes_the_wait_grows_to_the_longest() -> None:
    still = reading(3, 10)
    assert next_reading(still, still, 0.1, 0.1) == 0.1 * 1.5
    assert next_reading(still, still, 0.1, LONGEST) == LONGEST
