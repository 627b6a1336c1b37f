"""Figure 7: the wall time of `make test`, as last recorded by tests/run.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

TEST_SUITE = Path(__file__).parent / "results" / "test-suite.json"
"""Written by tests/run.py after every run: wall seconds, exit status, date, arguments."""


def last_test_suite_run() -> dict[str, Any] | None:
    """The last full `make test` run recorded, or None when none was."""
    try:
        data: dict[str, Any] = json.loads(TEST_SUITE.read_text())
    except (OSError, ValueError):
        return None
    return data
