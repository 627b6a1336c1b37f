"""Settings of the worker process: its identity, its limits, and worker versioning."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_GRACEFUL_SHUTDOWN_SECONDS = 20.0
"""In-flight activities get this long to finish on SIGINT/SIGTERM before cancellation."""


class WorkerSettings(BaseModel):
    """The ``[worker]`` section: how this worker shows itself to Temporal and what it takes on.

    Limits left at None are the SDK's defaults (100 slots of each kind today).
    """

    model_config = ConfigDict(extra="forbid")

    identity: str | None = Field(default=None, min_length=1, max_length=255)
    """The name this worker polls under (the web UI's and DescribeTaskQueue's "poller").
    None: the SDK default ``<pid>@<hostname>``, which collides when containers share a
    hostname and pid 1 (host networking): set it per container then, e.g.
    ``TASKRUNNER_WORKER__IDENTITY=worker-a``."""
    graceful_shutdown_seconds: float = Field(default=DEFAULT_GRACEFUL_SHUTDOWN_SECONDS, ge=0)
    """On SIGINT/SIGTERM, how long in-flight activities get to finish before they are
    cancelled. Keep it below the container's stop timeout (``stop_grace_period``, 30 s in
    docker-compose.yml; Docker's own default is 10 s), or the container is killed first."""
    max_concurrent_activities: int | None = Field(default=None, ge=1)
    """Activities (task runs, probes, notifications) this worker runs at once; None: the
    SDK default (100)."""
    max_concurrent_workflow_tasks: int | None = Field(default=None, ge=2)
    """Workflow tasks this worker processes at once; None: the SDK default (100). At least
    2: the SDK's sticky workflow cache needs two."""
    task_threads: int = Field(default=32, ge=1, le=1024)
    """Threads for blocking work of tasks (sync handlers, the email task's SMTP sends,
    file writes): Python's default pool has only cores + 4, which caps how many such
    tasks run at once below the queue's concurrency."""
    max_concurrent_local_activities: int | None = Field(default=None, ge=1)
    """Local activities at once (the queue workflow resolves task types through one);
    None: the SDK default (100)."""

    deployment_name: str | None = Field(default=None, min_length=1, max_length=255)
    """Worker Deployment this worker belongs to (with ``build_id``; both or neither).
    Set: Temporal Worker Deployment versioning is on, and workflow tasks go only to the
    workers of the deployment's current version. A version takes no work until an
    operator makes it current, once its workers poll: ``temporal worker deployment
    set-current-version --deployment-name <name> --build-id <id>``; until then queue
    workflows wait (and enqueues with them). None: no versioning."""
    build_id: str | None = Field(default=None, min_length=1, max_length=255)
    """This worker's version in ``deployment_name``: one per image, e.g. the git commit."""
    versioning_behavior: Literal["auto_upgrade", "pinned"] = "auto_upgrade"
    """What a workflow does when a new version becomes current (with ``deployment_name``).

    ``auto_upgrade`` (default): its next workflow task runs on the new version. The
    runner's workflows are made for it: the queue workflow runs forever (continuing as
    new), so a pinned queue would keep every old version alive; and every change to
    workflow code is checked against recorded histories (replay tests), so a running
    workflow can move to new code; old workers can stop once the new version is current.
    ``pinned``: a workflow stays on the version it started on; only for a code change
    that is not replay-safe, and the old workers must then run until the old version is
    ``drained`` (``temporal worker deployment describe-version``), which a queue never
    is until it is moved (``temporal workflow update-options``)."""

    @model_validator(mode="after")
    def _versioning(self) -> WorkerSettings:
        if (self.deployment_name is None) != (self.build_id is None):
            raise ValueError(
                "deployment_name and build_id turn on worker versioning together: "
                "set both (TASKRUNNER_WORKER__DEPLOYMENT_NAME, TASKRUNNER_WORKER__BUILD_ID) "
                "or neither"
            )
        if self.deployment_name is not None and "." in self.deployment_name:
            raise ValueError(
                f"deployment_name {self.deployment_name!r} contains a '.', which Temporal "
                "uses to separate it from the build id; use '-' instead"
            )
        return self
