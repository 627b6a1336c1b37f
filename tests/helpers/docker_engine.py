"""A real Docker engine, a tiny locally made image and a few containers for probe tests.

No image registry is reachable, so the image is ``docker import``-ed from a rootfs
tarball made here: a statically linked busybox plus the applet links the containers
use. When no engine answers, ``.ci/docker-engine start`` starts one, and the session
stops it again when it ends. Installing the packages (docker.io, busybox-static) is
``.ci/docker-engine install``, which only ``.ci/run`` calls: tests never install anything.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import struct
import subprocess
import tarfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
from docker.errors import DockerException, NotFound

REPO = Path(__file__).resolve().parents[2]
ENGINE_SCRIPT = REPO / ".ci" / "docker-engine"
DEFAULT_SOCKET_HOST = "unix:///var/run/docker.sock"
# The script bounds each of its own steps (waiting for its lock, for the engine to answer,
# for it to stop); these only guard against the unexpected.
ENGINE_START_TIMEOUT = 300
ENGINE_STOP_TIMEOUT = 300
PING_TIMEOUT = 10
TEST_LABEL = "taskrunner.test"
APPLETS = ("sh", "sleep", "true", "false")
HEALTH_INTERVAL_NS = 500_000_000
# A health check this slow never runs during a test: its container stays "starting".
SLOW_HEALTH_INTERVAL_NS = 3_600 * 1_000_000_000
ELF_PT_INTERP = 3


class EngineUnavailable(Exception):
    """No Docker engine answers here and none could be started (the message says why)."""


@dataclass
class DockerEngine:
    """An engine the tests can use, with the image and containers they made in it."""

    host: str
    client: docker.DockerClient
    image: str = ""
    label: str = field(default_factory=lambda: f"docker-probe-{uuid.uuid4().hex[:8]}")
    containers: dict[str, str] = field(default_factory=dict)
    """Role (``running``, ``healthy``, ...) -> container name."""
    started: bool = False
    """True when this test session started the engine: it stops it again on close."""

    def run(self, role: str, command: list[str], **options: Any) -> Any:
        """Start a container of the test image with no network, labelled for cleanup."""
        name = f"{self.label}-{role}"
        container = self.client.containers.run(
            self.image,
            command,
            name=name,
            detach=True,
            network_mode="none",
            labels={TEST_LABEL: self.label},
            **options,
        )
        self.containers[role] = name
        return container

    def close(self) -> None:
        """Remove the containers and the image this session made; stop an engine it started.

        Raises:
            EngineUnavailable: the engine this session started did not stop (the message
                carries the script's output).
        """
        try:
            for container in self.client.containers.list(
                all=True, filters={"label": f"{TEST_LABEL}={self.label}"}
            ):
                container.remove(force=True)
            if self.image:
                with contextlib.suppress(NotFound):
                    self.client.images.remove(self.image, force=True)
        finally:
            self.client.close()
            if self.started:
                # Leave the machine as the tests found it: dockerd, its containerd and the
                # shims stop; an engine that already ran before the session is left alone.
                _stop_engine()


def connect_engine() -> DockerEngine:
    """Find an engine that answers, or start one with ``.ci/docker-engine start``.

    Raises:
        EngineUnavailable: no engine answers and starting one failed; the message
            carries the reason (the script's last output lines).
    """
    for host in _candidate_hosts():
        client = _ping(host)
        if client is not None and static_busybox() is not None:
            return DockerEngine(host=host, client=client)
        if client is not None:
            client.close()
    host = _script_host()
    already_up = _ping(host)
    if already_up is not None:
        already_up.close()
    _, output = _run_engine_script("start", ENGINE_START_TIMEOUT)
    client = _ping(host)
    if client is None:
        raise EngineUnavailable(
            f"no Docker engine answers at {host}; .ci/docker-engine start said: {output}"
        )
    engine = DockerEngine(host=host, client=client, started=already_up is None)
    if static_busybox() is None:
        engine.close()
        raise EngineUnavailable(
            "no statically linked busybox to build the test image from; "
            "run .ci/docker-engine install"
        )
    return engine


def build_test_image(engine: DockerEngine) -> str:
    """``docker import`` a busybox-only rootfs and return its reference."""
    busybox = static_busybox()
    assert busybox is not None, "connect_engine checked for a static busybox"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(busybox, arcname="bin/busybox")
        for applet in APPLETS:
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)
    repository, tag = "taskrunner-probe-test", engine.label
    engine.client.api.import_image_from_data(buffer.getvalue(), repository=repository, tag=tag)
    engine.image = f"{repository}:{tag}"
    return engine.image


def start_probe_containers(engine: DockerEngine) -> None:
    """One container per state the probe reports on, named in ``engine.containers``."""
    sleep = ["/bin/sleep", "3600"]
    engine.run("running", sleep)
    engine.run("healthy", sleep, healthcheck=_health(["CMD", "/bin/true"]))
    engine.run("unhealthy", sleep, healthcheck=_health(["CMD", "/bin/false"]))
    engine.run(
        "starting",
        sleep,
        healthcheck=_health(["CMD", "/bin/true"], interval=SLOW_HEALTH_INTERVAL_NS),
    )
    stopped = engine.run("stopped", ["/bin/true"])
    stopped.wait(timeout=60)


def static_busybox() -> Path | None:
    """A statically linked busybox on this machine (Debian's busybox-static), if any."""
    candidates = [shutil.which("busybox"), "/bin/busybox", "/usr/bin/busybox"]
    for candidate in candidates:
        if candidate and os.path.isfile(candidate) and _is_static_elf(Path(candidate)):
            return Path(candidate)
    return None


def _health(test: list[str], interval: int = HEALTH_INTERVAL_NS) -> dict[str, Any]:
    # One failed check is enough to turn unhealthy: no waiting on retries.
    return {"test": test, "interval": interval, "timeout": 5_000_000_000, "retries": 1}


def _candidate_hosts() -> list[str]:
    hosts = [os.environ.get("DOCKER_HOST", ""), _script_host(), DEFAULT_SOCKET_HOST]
    return list(dict.fromkeys(host for host in hosts if host))


def _script_host() -> str:
    result = subprocess.run(
        [str(ENGINE_SCRIPT), "host"], capture_output=True, text=True, timeout=10, check=True
    )
    return result.stdout.strip()


def _ping(host: str) -> docker.DockerClient | None:
    if host.startswith("unix://") and not Path(host.removeprefix("unix://")).exists():
        return None
    try:
        client = docker.DockerClient(base_url=host, timeout=PING_TIMEOUT)
        client.ping()
    except DockerException:
        return None
    return client


def _stop_engine() -> None:
    status, output = _run_engine_script("stop", ENGINE_STOP_TIMEOUT)
    if status != 0:
        raise EngineUnavailable(
            f"the Docker engine this test session started did not stop: {output}"
        )


def _run_engine_script(command: str, timeout: float) -> tuple[int | None, str]:
    """The script's exit status (None on timeout) and its last output lines on one line."""
    try:
        result = subprocess.run(
            [str(ENGINE_SCRIPT), command],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"no answer within {timeout}s"
    lines = (result.stdout + result.stderr).strip().splitlines()
    return result.returncode, " | ".join(lines[-6:]) or f"exit status {result.returncode}"


def _is_static_elf(path: Path) -> bool:
    """True for a 64-bit little-endian ELF with no PT_INTERP (no dynamic loader)."""
    with path.open("rb") as file:
        header = file.read(64)
        if header[:4] != b"\x7fELF" or header[4] != 2 or header[5] != 1:
            return False
        (phoff,) = struct.unpack_from("<Q", header, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", header, 0x36)
        file.seek(phoff)
        table = file.read(phentsize * phnum)
    return all(
        struct.unpack_from("<I", table, i * phentsize)[0] != ELF_PT_INTERP for i in range(phnum)
    )
