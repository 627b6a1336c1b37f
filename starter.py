"""Entry point of the CLI: ``taskrunner ...`` (or ``python starter.py ...``).

The CLI takes a moment to import (temporalio, pydantic): a Ctrl-C in that moment ends
in the same one line as later, not in a traceback of whatever was being imported.
"""

import os
import signal
import sys
from types import FrameType

INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT)."""


def _interrupted_while_loading(signum: int, frame: FrameType | None) -> None:
    sys.stderr.write("interrupted (Ctrl-C)\n")
    sys.stderr.flush()
    os._exit(INTERRUPTED)


def main() -> None:
    signal.signal(signal.SIGINT, _interrupted_while_loading)
    from taskrunner.cli import main as run_cli

    # Python's own handler again: asyncio.run turns it into a clean cancellation.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    run_cli()


if __name__ == "__main__":
    main()
