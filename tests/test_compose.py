"""The compose deployment is closed by default, and the worker image's health check works.

The compose file, Dockerfile and env files are read as data (nothing is built or run);
``python -m taskrunner.healthcheck`` runs as the container runs it, as a subprocess.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from temporalio.api.taskqueue.v1 import PollerInfo
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from taskrunner.devserver import DevServer
from taskrunner.healthcheck import HEALTHY, RECENT_POLL, UNHEALTHY, this_host_polled
from tests.helpers import free_port
from tests.helpers.cli import ROOT, cli_env
from tests.helpers.cli_worker import polled

COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
BUILT = sorted(name for name, service in SERVICES.items() if "build" in service)
"""Services that run the project's own image (the Dockerfile)."""
LOOPBACK = {"127.0.0.1", "::1"}
SECRET_NAME = re.compile(r"passw(or)?d|(^|_)pwd$|secret|token|(^|_)(api_?)?key$", re.IGNORECASE)
REQUIRED_VARIABLE = re.compile(r"\$\{[A-Za-z_]\w*(:?\?[^}]*)?\}")
"""``${VAR}`` or ``${VAR:?message}``: a value from the env file, with no default to leak."""
INTERPOLATION = re.compile(r"\$(\$|\{([A-Za-z_]\w*)|([A-Za-z_]\w*))")
"""What compose substitutes; ``$$`` is an escaped dollar (the container's own variable)."""
FULL_VERSION = re.compile(r"v?\d+\.\d+\.\d+([-.+_][\w.-]+)?")
RELEASE_VERSION = re.compile(r"\d+\.\d+([-.+_][\w.-]+)?")
TWO_PART_RELEASES = {"postgres"}
"""Images whose releases are major.minor: since PostgreSQL 10, 16.4 is a full version."""
DIGEST = re.compile(r"[^@\s]+@sha256:[0-9a-f]{64}")
HEALTHCHECK_SECONDS = 40.0
"""Upper bound of one health check run (the Dockerfile gives it 30 s)."""


def host_ip(entry: Any) -> str | None:
    """The host address a ``ports:`` entry binds (None: every interface)."""
    if isinstance(entry, dict):  # long syntax
        return entry.get("host_ip")
    text = str(entry).split("/")[0]
    if text.startswith("["):  # "[::1]:7233:7233"
        return text[1 : text.index("]")]
    parts = text.split(":")
    return parts[0] if len(parts) == 3 else None


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {str(k): str(v) for k, v in env.items()}


def strings(node: Any) -> Iterator[str]:
    """Every string in the compose document (values, commands, health check tests)."""
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


def env_example() -> dict[str, list[str]]:
    """``.env.example``'s variables, each with the comment lines just above it."""
    listed: dict[str, list[str]] = {}
    comments: list[str] = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.startswith("#"):
            comments.append(line)
        elif "=" in line:
            listed[line.partition("=")[0].strip()] = comments
            comments = []
        else:
            comments = []
    return listed


def is_root(user: str) -> bool:
    return user.split(":")[0].strip() in {"", "0", "root"}


def test_no_published_port_is_bound_to_all_interfaces() -> None:
    published = {
        (name, str(entry)): host_ip(entry)
        for name, service in SERVICES.items()
        for entry in service.get("ports", [])
    }
    assert published, "the compose file publishes no port at all"
    open_ports = {where: ip for where, ip in published.items() if ip not in LOOPBACK}
    assert not open_ports, f"bind these to 127.0.0.1: {open_ports}"
    host_network = [n for n, s in SERVICES.items() if s.get("network_mode") == "host"]
    assert not host_network, f"network_mode: host publishes every port: {host_network}"


def test_port_parsing_sees_every_way_to_bind_all_interfaces() -> None:
    assert host_ip("7233:7233") is None and host_ip(7233) is None and host_ip("7233") is None
    assert host_ip("0.0.0.0:7233:7233/tcp") == "0.0.0.0"
    assert host_ip("[::1]:7233:7233") == "::1"
    assert host_ip({"target": 7233, "published": 7233}) is None


def test_no_secret_value_is_written_in_the_compose_file() -> None:
    secrets = {
        (name, key): value
        for name, service in SERVICES.items()
        for key, value in environment(service).items()
        if SECRET_NAME.search(key)
    }
    assert ("postgresql", "POSTGRES_PASSWORD") in secrets
    literal = {k: v for k, v in secrets.items() if not REQUIRED_VARIABLE.fullmatch(v)}
    assert not literal, f"take these from .env as ${{VAR:?...}}, with no default: {literal}"
    # NAME=value inside commands and health checks: only a variable may follow.
    assignments = re.compile(r"([A-Za-z_]\w*)=(\S+)")
    inline = [
        m.group(0)
        for text in strings(COMPOSE)
        for m in assignments.finditer(text)
        if SECRET_NAME.search(m.group(1)) and not m.group(2).lstrip("\"'").startswith("$")
    ]
    assert not inline, f"literal secrets in commands: {inline}"


def test_every_image_is_pinned_to_a_full_version() -> None:
    images = {name: s["image"] for name, s in SERVICES.items() if "image" in s}
    assert set(images) | set(BUILT) == set(SERVICES), "a service has neither image nor build"
    loose = {}
    for name, image in images.items():
        repository, _, tag = image.rsplit("/", 1)[-1].partition(":")
        version = RELEASE_VERSION if repository in TWO_PART_RELEASES else FULL_VERSION
        if not (DIGEST.fullmatch(image) or version.fullmatch(tag)):
            loose[name] = image
    assert not loose, f"pin these to major.minor.patch (or a digest): {loose}"


def test_server_and_database_have_health_checks_that_gate_their_dependents() -> None:
    for name in ("postgresql", "temporal", "worker"):
        check = SERVICES[name].get("healthcheck") or {}
        test = check.get("test")
        assert not check.get("disable") and test, f"{name} has no health check"
        assert test[0] in {"CMD", "CMD-SHELL"} and len(test) > 1, f"{name}: {test}"
    assert "tctl" not in " ".join(SERVICES["temporal"]["healthcheck"]["test"])
    gated = {
        (name, dependency)
        for name, service in SERVICES.items()
        for dependency, how in (service.get("depends_on") or {}).items()
        if isinstance(how, dict) and how.get("condition") == "service_healthy"
    }
    assert ("temporal", "postgresql") in gated
    assert {(name, "temporal") for name in BUILT} <= gated


def test_the_worker_runs_unprivileged_in_compose_and_in_the_image() -> None:
    for name in BUILT:
        service = SERVICES[name]
        assert not is_root(str(service.get("user", ""))), f"{name} runs as root"
        assert service.get("read_only") is True, f"{name}: read_only root filesystem"
        assert service.get("cap_drop") == ["ALL"], f"{name}: cap_drop: [ALL]"
        assert "no-new-privileges:true" in service.get("security_opt", []), name
        assert not service.get("privileged"), f"{name} is privileged"
    dockerfile = (ROOT / "Dockerfile").read_text().splitlines()
    users = [line.split(None, 1)[1] for line in dockerfile if line.upper().startswith("USER ")]
    assert users and not is_root(users[-1]), f"the Dockerfile's last USER is {users[-1:]}"
    assert any(line.startswith("HEALTHCHECK") for line in dockerfile)


def test_every_interpolated_variable_is_listed_in_env_example() -> None:
    used = {m.group(2) or m.group(3) for m in INTERPOLATION.finditer(COMPOSE_TEXT)} - {None}
    assert "POSTGRES_PASSWORD" in used
    listed = env_example()
    assert not used - set(listed), f"add these to .env.example: {sorted(used - set(listed))}"
    uncommented = [name for name, comments in listed.items() if not comments]
    assert not uncommented, f"say in a comment what these are for: {uncommented}"


def test_the_env_file_is_never_committed_nor_sent_to_a_build() -> None:
    ignored = {line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()}
    assert ignored & {".env", "/.env"}, ".env is not in .gitignore"
    assert ".env.example" not in ignored
    not_built = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert not_built & {".env", ".env*", "/.env"}, ".env is not in .dockerignore"


def poller(identity: str, seconds_ago: float, now: float) -> PollerInfo:
    info = PollerInfo(identity=identity)
    info.last_access_time.FromNanoseconds(int((now - seconds_ago) * 1e9))
    return info


def test_healthcheck_judges_pollers_by_host_and_age() -> None:
    now = time.time()
    stale = RECENT_POLL.total_seconds() + 10
    assert this_host_polled([], "box", now).code == UNHEALTHY
    assert this_host_polled([poller("7@other", 1, now)], "box", now).code == UNHEALTHY
    assert this_host_polled([poller("7@box", stale, now)], "box", now).code == UNHEALTHY
    assert this_host_polled([poller("7@boxer", 1, now)], "box", now).code == UNHEALTHY
    named = [poller("worker-a", 1, now), poller("1@box", 1, now)]
    assert this_host_polled(named, "box", now, identity="worker-a").code == HEALTHY
    assert this_host_polled(named, "box", now, identity="worker-b").code == UNHEALTHY
    fresh = [poller("7@box", stale, now), poller("1@box", 2, now)]
    verdict = this_host_polled(fresh, "box", now)
    assert verdict.code == HEALTHY and "1@box" in verdict.line


def healthcheck(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "taskrunner.healthcheck"],
        cwd=cwd,
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=HEALTHCHECK_SECONDS,
    )


def test_healthcheck_says_in_one_line_when_temporal_is_unreachable(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    started = time.monotonic()
    done = healthcheck(tmp_path, TEMPORAL_ADDRESS=address, TASKRUNNER_CONNECT_TIMEOUT_SECONDS="5")
    assert time.monotonic() - started < 20
    assert done.returncode == UNHEALTHY, done
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("unhealthy:") and address in done.stderr


@pytest.mark.devserver
async def test_healthcheck_is_healthy_only_while_a_worker_here_polls(
    tmp_path: Path, dev_server: DevServer, dev_client: Client, settings: Any, make_worker: Any
) -> None:
    async def check(task_queue: str) -> subprocess.CompletedProcess[str]:
        env = {"TEMPORAL_ADDRESS": dev_server.address, "TASKRUNNER_TASK_QUEUE": task_queue}
        return await asyncio.to_thread(healthcheck, tmp_path, **env)

    unserved = await check(f"{settings.task_queue}-unserved")
    assert unserved.returncode == UNHEALTHY and "no worker polls" in unserved.stderr

    elsewhere = await Client.connect(
        dev_server.address, identity="1@elsewhere.invalid", data_converter=pydantic_data_converter
    )
    foreign = settings.model_copy(update={"task_queue": f"{settings.task_queue}-foreign"})
    async with make_worker(elsewhere, foreign):
        await polled(dev_client, foreign.task_queue)
        other_host = await check(foreign.task_queue)
    assert other_host.returncode == UNHEALTHY, other_host
    assert "elsewhere.invalid" in other_host.stderr

    async with make_worker(dev_client, settings):  # this process: <pid>@<this host>
        await polled(dev_client, settings.task_queue)
        served = await check(settings.task_queue)
    assert served.returncode == HEALTHY, served
    assert served.stdout.startswith("healthy:") and served.stderr == ""
