"""The worker image, built where no image registry is reachable.

``docker build`` needs a base image. Where a registry answers, the Dockerfile's default
``python:3.11-slim`` is pulled as usual. Where none does, :func:`local_base` makes one: a
Debian rootfs from the package archive (``debootstrap``, which reaches only Debian's
mirror), with Python and the PostgreSQL client, ``docker import``-ed. The rootfs tarball
is cached between runs (``~/.cache/temporal-task-runner``), so only the first build pays
for it; the Dockerfile installs the project's dependencies in a layer of their own.

    python -m deploy.image            # build temporal-task-runner-worker:latest, print it
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import ImageNotFound

REPO = Path(__file__).resolve().parent.parent
SUITE = "bookworm"
MIRROR = os.environ.get("TTR_DEBIAN_MIRROR", "http://deb.debian.org/debian")
PACKAGES = ("python3", "python3-venv", "ca-certificates", "postgresql-client")
"""What the base holds: Python 3.11 (bookworm's), venv, TLS roots, pg_dump for maintenance."""
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
BASE_TAG = f"temporal-task-runner-base:{SUITE}"
WORKER_TAG = "temporal-task-runner-worker:latest"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "temporal-task-runner"
DEBOOTSTRAP_TIMEOUT = 900
BUILD_TIMEOUT = 1800


class ImageError(Exception):
    """The image could not be made; the message says why and what to do."""


@dataclass(frozen=True)
class Built:
    tag: str
    base: str
    seconds: float
    size_bytes: int


def rootfs_tarball() -> Path:
    """The cached Debian rootfs tarball, made with debootstrap when absent."""
    tarball = CACHE / f"debian-{SUITE}-python.tar"
    if tarball.is_file():
        return tarball
    if shutil.which("debootstrap") is None:
        raise ImageError(
            "debootstrap is missing (Debian package debootstrap): .ci/docker-engine install"
        )
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rootfs-", dir=CACHE) as work:
        root = Path(work) / "root"
        command = ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}"]
        done = subprocess.run(
            [*command, SUITE, str(root), MIRROR],
            capture_output=True,
            text=True,
            timeout=DEBOOTSTRAP_TIMEOUT,
        )
        if done.returncode != 0:
            last = (done.stdout + done.stderr).strip().splitlines()[-3:]
            raise ImageError(f"debootstrap {SUITE} from {MIRROR} failed: {' / '.join(last)}")
        trust_host_roots(root)
        partial = tarball.with_suffix(".partial")
        subprocess.run(
            ["tar", "-C", str(root), "--numeric-owner", "-cf", str(partial), "."],
            check=True,
            timeout=DEBOOTSTRAP_TIMEOUT,
        )
        partial.replace(tarball)
    return tarball


def trust_host_roots(root: Path) -> None:
    """The base trusts what this machine trusts: its CA bundle replaces the rootfs's (a
    network that inspects TLS has its own root there; pip in the build needs it)."""
    bundle = Path(HOST_CA_BUNDLE)
    if bundle.is_file():
        shutil.copyfile(bundle, root / HOST_CA_BUNDLE.lstrip("/"))


def local_base(client: docker.DockerClient) -> str:
    """The local Debian base image, imported from the cached rootfs when not there yet."""
    try:
        client.images.get(BASE_TAG)
        return BASE_TAG
    except ImageNotFound:
        pass
    repository, tag = BASE_TAG.split(":")
    with rootfs_tarball().open("rb") as data:
        client.api.import_image_from_data(data.read(), repository=repository, tag=tag)
    return BASE_TAG


def build(
    client: docker.DockerClient, host: str, base: str | None = None, tag: str = WORKER_TAG
) -> Built:
    """Build the worker image from the repository's Dockerfile on ``base`` (default: the
    local Debian base), with the engine at ``host``. Host networking: the engine here has
    no bridge, and pip needs PyPI.

    The docker CLI builds (its classic builder): its layer cache holds across builds, so
    only a changed pyproject.toml reinstalls the dependencies.
    """
    base = base or local_base(client)
    command = ["docker", "-H", host, "build", "--network", "host", "--tag", tag]
    command += ["--build-arg", f"BASE_IMAGE={base}", "--build-arg", f"PIP_CERT={HOST_CA_BUNDLE}"]
    started = time.monotonic()
    done = subprocess.run(
        [*command, str(REPO)],
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )
    if done.returncode != 0:
        tail = " / ".join((done.stdout + done.stderr).strip().splitlines()[-4:])[-500:]
        raise ImageError(f"docker build on {base} failed: {tail}")
    seconds = time.monotonic() - started
    # The image this one replaced, untagged: its layers are full copies under vfs.
    subprocess.run(
        ["docker", "-H", host, "image", "prune", "--force"],
        capture_output=True,
        timeout=BUILD_TIMEOUT,
    )
    size = int(client.images.get(tag).attrs.get("Size", 0))
    return Built(tag, base, seconds, size)


def main() -> int:
    from tests.helpers.docker_engine import EngineUnavailable, connect_engine

    try:
        engine = connect_engine()
    except EngineUnavailable as err:
        sys.stderr.write(f"error: {err}\n")
        return 2
    try:
        built = build(engine.client, engine.host)
    except ImageError as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    finally:
        engine.close()  # stops the engine if this command started it; the image stays
    print(
        f"{built.tag} on {built.base}: {built.size_bytes / 1e6:.0f} MB, built in {built.seconds:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
