"""The built-in task types, declared with ``@task_type`` like the user's own.

Adding one: a module in this package, its class in the tuple below."""

from __future__ import annotations

from typing import Any

from taskrunner.settings import Settings
from taskrunner.tasks.data_sync import DataSyncTask
from taskrunner.tasks.declare import declared_types
from taskrunner.tasks.email import EmailTask
from taskrunner.tasks.registry import TaskRegistry
from taskrunner.tasks.report import KNOWN_REPORTS, ReportTask
from taskrunner.tasks.source_policy import DATA_SYNC_POLICY, SourcePolicy

BUILTIN_TASK_TYPES = TaskRegistry(declared_types(EmailTask, ReportTask, DataSyncTask))
"""What every worker runs unless it is given another registry."""


def payload_context(settings: Settings) -> dict[str, Any]:
    """What the payload models check against the settings (a pydantic validation context):
    the declared reports, and the folders and URL prefixes dataSync may read."""
    return {
        KNOWN_REPORTS: sorted(settings.reports),
        DATA_SYNC_POLICY: SourcePolicy.from_settings(settings).context(),
    }
