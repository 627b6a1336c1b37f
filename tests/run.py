"""Run pytest and exit with its real status before interpreter teardown.

temporalio sdk-python #300: a process that used a Temporal client can abort at
exit (``PyGILState_Release``, exit 134). ``os._exit`` after flushing avoids it.
pytest's exit code 5 ("no tests collected") is turned into a failure: `make test`
must run tests. The wall time and status go to bench/results/test-suite.json,
which `make bench` reports (figure 7) without running the suite itself.
"""

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

NO_TESTS_COLLECTED = 5
TEST_SUITE_RECORD = Path(__file__).parent.parent / "bench" / "results" / "test-suite.json"


def record(wall_seconds: float, code: int, args: list[str]) -> None:
    """Keep the last run's wall time for the benchmark table (best effort)."""
    try:
        TEST_SUITE_RECORD.parent.mkdir(parents=True, exist_ok=True)
        TEST_SUITE_RECORD.write_text(
            json.dumps(
                {
                    "wall_seconds": round(wall_seconds, 1),
                    "exit_status": code,
                    "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "args": args,
                }
            )
        )
    except OSError as err:
        sys.stderr.write(f"warning: cannot record the test suite time: {err}\n")


if __name__ == "__main__":
    started = time.perf_counter()
    code = int(pytest.main(sys.argv[1:]))
    if code == NO_TESTS_COLLECTED:
        sys.stderr.write("error: no tests were collected; check the test path or -k filter\n")
        code = 1
    record(time.perf_counter() - started, code, sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
