"""Updates the queue applied recently, remembered so a re-sent one gets the same answer.

A client whose update raced a continue-as-new may send the same update (same id)
to the next run; it must get the first answer, not new tasks or a second cancel.
The memory is bounded by the task ids it holds and carried over continue-as-new.
"""

from __future__ import annotations

from collections import OrderedDict

APPLIED_IDS_LIMIT = 10_000
"""Task ids remembered over all recent updates (oldest updates forgotten first)."""
APPLIED_UPDATES_LIMIT = 2_000
"""Updates remembered (commands touch few or no task ids: this bounds them)."""

Answer = tuple[list[str], int]
"""What an update did: the task ids it touched and how many tasks it created."""


class AppliedUpdates:
    def __init__(self) -> None:
        self._answers: OrderedDict[str, Answer] = OrderedDict()
        self._ids = 0

    def __contains__(self, update_id: str) -> bool:
        return update_id in self._answers

    def answer(self, update_id: str) -> Answer:
        return self._answers[update_id]

    def remember(self, update_id: str, task_ids: list[str], created: int) -> None:
        self._answers[update_id] = (task_ids, created)
        self._ids += len(task_ids)
        while len(self._answers) > 1 and (
            self._ids > APPLIED_IDS_LIMIT or len(self._answers) > APPLIED_UPDATES_LIMIT
        ):
            _, (ids, _) = self._answers.popitem(last=False)
            self._ids -= len(ids)

    def dump(self) -> list[tuple[str, list[str], int]]:
        return [(uid, ids, created) for uid, (ids, created) in self._answers.items()]

    @classmethod
    def load(cls, entries: list[tuple[str, list[str], int]]) -> AppliedUpdates:
        applied = cls()
        for update_id, ids, created in entries:
            applied.remember(update_id, ids, created)
        return applied
