"""Bad input at the enqueue update: random and malformed requests (hypothesis).

Each request is either accepted (and then valid) or rejected with a one-line
:class:`UserError`; afterwards the queue holds exactly the accepted tasks.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from temporalio.client import Client

from taskrunner.errors import UserError
from taskrunner.queue.admission import json_size
from taskrunner.queue.client import (
    MAX_REQUEST_BYTES,
    QueueClient,
)
from taskrunner.queue.models import (
    Enqueued,
    TaskSpec,
    TaskStatus,
)
from taskrunner.queue.workflow import TaskQueueWorkflow
from taskrunner.settings import Settings
from taskrunner.tasks.registry import TaskType
from tests.helpers.queue import Ledger, SamplePayload, running_queue

pytestmark = pytest.mark.faults

MAX_PAYLOAD = 200_000


class BlobPayload(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n: int = Field(default=0, ge=0)
    text: str = ""
    tree: Any = None


@dataclass
class Model:
    """The queue as the accepted requests alone would build it."""

    tasks: dict[str, TaskSpec] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)


@dataclass
class Paused:
    queue: QueueClient
    model: Model


@pytest.fixture
async def paused(client: Client, make_settings: Any) -> AsyncIterator[Paused]:
    """One paused queue per test (tasks stay pending, so state is easy to compare)."""
    s: Settings = make_settings(queue={"max_payload_bytes": MAX_PAYLOAD})

    def blob(ledger: Ledger) -> list[TaskType]:
        return [TaskType("blob", BlobPayload, lambda _: ledger.noop, timedelta(seconds=30))]

    async with running_queue(client, s, blob) as h:
        # The queue exists (one task, completed) and is paused from here on.
        await h.queue.enqueue(TaskSpec(type="blob", payload={"n": 1}))
        await h.queue.drain(through_retries=True)
        await h.queue.pause()
        yield Paused(h.queue, Model())


def deep(depth: int) -> Any:
    tree: Any = "leaf"
    for i in range(depth):
        tree = {"k": tree} if i % 2 else [tree]
    return tree


texts = st.one_of(
    st.text(max_size=30),
    st.tuples(
        st.sampled_from(["a", "é", "€", "😀", "\x00", "\u202e"]),
        st.sampled_from([0, 1000, MAX_PAYLOAD // 6 - 50, MAX_PAYLOAD - 100, MAX_PAYLOAD + 10]),
    ).map(lambda t: t[0] * t[1]),
    st.sampled_from([MAX_REQUEST_BYTES + 10, 2 * 1024 * 1024 + 10]).map(lambda n: "x" * n),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=20,
)
payloads = st.one_of(
    st.fixed_dictionaries({}, optional={"n": st.integers(-5, 10**20), "text": texts}),
    st.builds(lambda d: {"tree": deep(d)}, st.sampled_from([5, 50, 200])),
    st.fixed_dictionaries({"tree": json_values}),
    st.dictionaries(st.text(max_size=8), json_values, max_size=3),
    json_values,
)
valid_blobs = st.fixed_dictionaries(
    {"type": st.just("blob")},
    optional={
        "payload": st.fixed_dictionaries(
            {}, optional={"n": st.integers(0, 10**6), "text": texts, "tree": json_values}
        ),
        "priority": st.integers(-1000, 1000),
        "key": st.sampled_from(["k1", "k2", "ключ", None]),
        "run_at": st.sampled_from(["2030-01-01T00:00:00+02:00", None]),
    },
)
requests = st.one_of(
    valid_blobs,
    valid_blobs,
    st.fixed_dictionaries(
        {"type": st.sampled_from(["blob", "noop"])},
        optional={
            "payload": payloads,
            "priority": st.one_of(st.integers(-(10**7), 10**7), st.text(max_size=5)),
            "key": st.sampled_from(["k1", "k2", "ключ", "", "x" * 300, None]),
            "run_at": st.sampled_from(
                ["2030-01-01T00:00:00Z", "2030-01-01T00:00:00", "garbage", None]
            ),
        },
    ),
    st.fixed_dictionaries(
        {"type": st.one_of(st.text(max_size=20), st.integers(), st.none())},
        optional={"payload": payloads},
    ),
    st.fixed_dictionaries({}, optional={"payload": payloads, "priority": st.integers()}),
    json_values,
)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


JSON_DEPTH_LIMIT = 200
"""pydantic's JSON parser refuses deeper documents (so the update's decoding does)."""


def expected_spec(raw: Any) -> TaskSpec | None:
    """The oracle: the task a request should create, or None when it must be rejected."""
    if depth(raw) >= JSON_DEPTH_LIMIT:
        return None
    try:
        spec = TaskSpec.model_validate(raw)
    except ValidationError:
        return None
    if spec.type not in ("blob", "noop"):
        return None
    model = BlobPayload if spec.type == "blob" else SamplePayload
    try:
        model.model_validate(spec.payload)
    except ValidationError:
        return None
    if json_size(spec.payload) > MAX_PAYLOAD:
        return None
    return spec


async def send(queue: QueueClient, raw: Any) -> Enqueued:
    """A request that passes the client's model goes through QueueClient; the rest is sent
    as raw JSON, as a client without the model would (e.g. another SDK)."""
    try:
        spec = TaskSpec.model_validate(raw)
    except ValidationError:
        return await queue._call(
            lambda: queue._with_start(TaskQueueWorkflow.enqueue, raw, str(uuid.uuid4()))
        )
    return await queue.enqueue(spec)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(raw=requests)
@example(raw={"type": "blob", "payload": {"text": "a" * (MAX_PAYLOAD - 100)}})
@example(raw={"type": "blob", "payload": {"text": "é" * (MAX_PAYLOAD - 100)}})
@example(raw={"type": "blob", "payload": {"text": "x" * (2 * 1024 * 1024 + 10)}})
@example(raw={"type": "blob", "payload": {"tree": deep(200)}})
@example(raw={"type": "blob", "payload": {"text": "\u202e😀\x00"}, "key": "ключ"})
@example(raw={"type": "blob", "payload": {"n": "many"}})
@example(raw={"type": "fax", "payload": {}})
@example(raw={"payload": {"n": 1}})
@example(raw=None)
@example(raw={"type": "blob", "payload": {"a\nb": 1}})
async def test_random_requests_are_accepted_valid_or_rejected_in_one_line(
    paused: Paused, raw: Any
) -> None:
    expected = expected_spec(raw)
    try:
        result = await send(paused.queue, raw)
    except UserError as err:
        message = str(err)
        assert message and "\n" not in message and len(message) < 2000, message
        assert expected is None, f"rejected a valid request: {message}"
        return
    assert expected is not None, f"accepted an invalid request {str(raw)[:200]}"
    model = paused.model
    if expected.key is not None and expected.key in model.keys:
        assert not result.created and result.task_id == model.keys[expected.key]
        return
    assert result.created and result.task_id not in model.tasks
    model.tasks[result.task_id] = expected
    if expected.key is not None:
        model.keys[expected.key] = result.task_id

    # The queue holds exactly what the accepted requests built.
    stats = await paused.queue.stats()
    assert stats.enqueued == stats.total == 1 + len(model.tasks)
    assert stats.pending == len(model.tasks) and stats.completed == 1
    listed = {t.id: t for t in await paused.queue.list(TaskStatus.PENDING, limit=10_000)}
    assert set(listed) == set(model.tasks)
    for task_id, spec in model.tasks.items():
        record = listed[task_id]
        assert (record.type, record.spec.payload, record.spec.priority, record.spec.key) == (
            spec.type,
            spec.payload,
            spec.priority,
            spec.key,
        )


async def test_big_batches_are_split_under_the_request_size_limit(paused: Paused) -> None:
    # 20 tasks of 150 kB each are 3 MB: one update would exceed Temporal's ~2 MB request limit.
    specs = [TaskSpec(type="blob", payload={"n": i, "text": "z" * 150_000}) for i in range(20)]
    result = await paused.queue.enqueue_batch(specs)
    assert result.created == 20 and len(set(result.task_ids)) == 20
    assert (await paused.queue.stats()).pending == 20

    too_big = [*specs[:2], TaskSpec(type="blob", payload={"text": "z" * 1_600_000})]
    with pytest.raises(UserError) as err:
        await paused.queue.enqueue_batch(too_big)
    assert str(err.value).startswith("task 2: task of ")
    assert "bytes one request to Temporal may carry" in str(err.value)
    assert (await paused.queue.stats()).pending == 20
