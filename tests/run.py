"""Run pytest and exit with its real status before interpreter teardown.

temporalio sdk-python #300: a process that used a Temporal client can abort at
exit (``PyGILState_Release``, exit 134). ``os._exit`` after flushing avoids it.
pytest's exit code 5 ("no tests collected") is turned into a failure: `make test`
must run tests.
"""

import os
import sys

import pytest

NO_TESTS_COLLECTED = 5

if __name__ == "__main__":
    code = int(pytest.main(sys.argv[1:]))
    if code == NO_TESTS_COLLECTED:
        sys.stderr.write("error: no tests were collected; check the test path or -k filter\n")
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
