"""Re-record the replay histories: ``.venv/bin/python -m tests.histories.record [NAME ...]``.

Run it after an intended change to workflow code, and commit the JSON files. A change
that would break workflows already running in production needs ``workflow.patched()``
instead (see the README's "Changing workflow code" section).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from taskrunner.devserver import find_binary
from tests.histories.scenarios import SCENARIOS

HERE = Path(__file__).parent


async def record(names: list[str]) -> None:
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter,
        test_server_existing_path=str(find_binary("temporal-test-server")),
    )
    try:
        for name in names or list(SCENARIOS):
            with tempfile.TemporaryDirectory() as tmp:
                handle = await SCENARIOS[name](env.client, Path(tmp))
                history = await handle.fetch_history()
            (HERE / f"{name}.json").write_text(history.to_json())
            sys.stdout.write(f"recorded {name}.json ({len(history.events)} events)\n")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:]))
    sys.stdout.flush()
    os._exit(0)  # temporalio sdk-python #300
