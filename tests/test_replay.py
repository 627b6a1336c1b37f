"""Replay recorded histories: a non-deterministic change to workflow code fails here.

Re-record after an intended change with ``.venv/bin/python -m tests.histories.record``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from taskrunner.worker import (
    WORKFLOWS,
    workflow_runner,
)
from tests.histories.scenarios import SCENARIOS

HISTORIES = Path(__file__).parent / "histories"


def test_every_scenario_has_a_recorded_history() -> None:
    recorded = {p.stem for p in HISTORIES.glob("*.json")}
    assert recorded == set(SCENARIOS), "run: .venv/bin/python -m tests.histories.record"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_recorded_history_replays(name: str) -> None:
    path = HISTORIES / f"{name}.json"
    history = WorkflowHistory.from_json(f"replay-{name}", path.read_text())
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    # No task types given: a queue's decisions come from its history alone.
    await replayer.replay_workflow(history)


async def test_a_queue_from_before_topped_up_calls_replays_unchanged() -> None:
    """Recorded with the code before bundled calls were topped up (commit 1cdedf4): a queue
    of ``max_concurrency`` 3 whose bundled type takes 10 a call, so its calls carried 3
    tasks each. Topped up, they would carry 10 (other activity ids): the new behaviour
    applies under ``workflow.patched``, and this run replays as it was."""
    path = HISTORIES / "before_top_up" / "queue_bundles.json"
    history = WorkflowHistory.from_json("replay-before-top-up", path.read_text())
    replayer = Replayer(
        workflows=WORKFLOWS,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )
    await replayer.replay_workflow(history)
