"""The payloads a workflow history carries, as stored (read with a client without codec)."""

from __future__ import annotations

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHistory

MARKER_DETAILS = "temporal.api.history.v1.MarkerRecordedEventAttributes.details"
CORE_MARKER_DATA = {(MARKER_DETAILS, "data"), (MARKER_DETAILS, "patch-data")}
"""The SDK core's own records, never encoded: a local activity's (sequence number,
timings) and a patch's (``workflow.patched``: the patch id)."""


def payloads_in(history: WorkflowHistory) -> list[Payload]:
    """Every payload the history's events carry (inputs, results, failures, markers, memos),
    but search attributes (the server indexes them, so they are never encrypted) and the
    SDK core's own bookkeeping of local activities and patches (:data:`CORE_MARKER_DATA`)."""
    found: list[Payload] = []

    def walk(message: Message) -> None:
        if isinstance(message, Payload):
            found.append(message)
            return
        for field, value in message.ListFields():
            if field.type != field.TYPE_MESSAGE or field.name == "search_attributes":
                continue
            repeated = field.is_repeated
            if repeated and field.message_type and field.message_type.GetOptions().map_entry:
                items = [
                    v for k, v in value.items() if (field.full_name, k) not in CORE_MARKER_DATA
                ]
            else:
                items = list(value) if repeated else [value]
            for item in items:
                if isinstance(item, Message):
                    walk(item)

    for event in history.events:
        walk(event)
    return found


def payloads_in_event(event: HistoryEvent) -> list[Payload]:
    return payloads_in(WorkflowHistory(workflow_id="", events=[event]))
