"""``docker-compose config`` accepts docker-compose.yml (Debian's docker-compose, which
``.ci/docker-engine install`` puts on the CI machine), and refuses it without the password."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.cli import ROOT, cli_env

COMPOSE = shutil.which("docker-compose")
pytestmark = pytest.mark.skipif(
    COMPOSE is None, reason="docker-compose is not installed (.ci/docker-engine install adds it)"
)


def config(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # The project directory holds no .env: only what the test passes is set.
    assert COMPOSE is not None
    file = str(ROOT / "docker-compose.yml")
    return subprocess.run(
        [COMPOSE, "-f", file, "--project-directory", str(tmp_path), "config"],
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_docker_compose_accepts_the_file_with_the_variables_of_env_example(tmp_path: Path) -> None:
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    done = config(tmp_path, **example)
    assert done.returncode == 0, done.stderr
    assert "127.0.0.1" in done.stdout and example["POSTGRES_PASSWORD"] in done.stdout


def test_docker_compose_refuses_the_file_without_a_database_password(tmp_path: Path) -> None:
    done = config(tmp_path)
    assert done.returncode != 0
    assert "set POSTGRES_PASSWORD in .env (see .env.example)" in done.stderr
