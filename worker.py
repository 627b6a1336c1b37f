"""Entry point of the worker: ``python worker.py`` (same as ``taskrunner worker``).

Run it on as many machines as you like against one Temporal cluster:
``TEMPORAL_ADDRESS=host:7233 python worker.py``. The worker itself is built in
``taskrunner/worker.py``.
"""

import sys

from taskrunner.cli import main

if __name__ == "__main__":
    main(["worker", *sys.argv[1:]])  # e.g. python worker.py --task-module myapp.tasks
