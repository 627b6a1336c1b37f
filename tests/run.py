"""Run pytest and exit with its real status before interpreter teardown.

temporalio sdk-python #300: a process that used a Temporal client can abort at
exit (``PyGILState_Release``, exit 134). ``os._exit`` after flushing avoids it.
pytest's exit code 5 ("no tests collected") is turned into a failure: `make test`
must run tests. The wall time and status go to bench/results/test-suite.json,
which `make bench` reports (figure 7) without running the suite itself.

No process the tests started may outlive them: after pytest, every one still running
(tests/helpers/leftovers.py says how they are found) is named on one line, killed, and
the run fails.
"""

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder is on sys.path, not the repository.
sys.path.insert(0, str(ROOT))

from tests.helpers.leftovers import RunWatch, check  # noqa: E402

NO_TESTS_COLLECTED = 5
LEFT_PROCESSES_RUNNING = 1
TEST_SUITE_RECORD = ROOT / "bench" / "results" / "test-suite.json"


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
    watch = RunWatch.begin()
    code = int(pytest.main(sys.argv[1:]))
    if code == NO_TESTS_COLLECTED:
        sys.stderr.write("error: no tests were collected; check the test path or -k filter\n")
        code = 1
    if not check(watch) and code == 0:
        code = LEFT_PROCESSES_RUNNING
    record(time.perf_counter() - started, code, sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
