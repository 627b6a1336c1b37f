"""temporal-task-runner: the public API for your own task types.

    from taskrunner import TaskContext, TaskPayload, task_type

Imported lazily: workflow modules are re-imported in Temporal's sandbox, and the
package's top level must stay free of what a sandbox would have to load each time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from taskrunner.errors import invalid_task_data
    from taskrunner.tasks.declare import TaskContext, task_activity, task_type
    from taskrunner.tasks.registry import TaskPayload, TaskResult

_EXPORTS = {
    "task_type": "taskrunner.tasks.declare",
    "task_activity": "taskrunner.tasks.declare",
    "TaskContext": "taskrunner.tasks.declare",
    "TaskPayload": "taskrunner.tasks.registry",
    "TaskResult": "taskrunner.tasks.registry",
    "invalid_task_data": "taskrunner.errors",
}
__all__ = [
    "TaskContext",
    "TaskPayload",
    "TaskResult",
    "invalid_task_data",
    "task_activity",
    "task_type",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'taskrunner' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
