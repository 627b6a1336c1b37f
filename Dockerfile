# The worker image: the project installed with its runtime dependencies in a virtualenv,
# run as a non-root user. BASE_IMAGE: any Debian-based image with Python 3.11+ and venv;
# where no registry is reachable, `python -m deploy.image` makes one from Debian's archive
# (docker build --build-arg BASE_IMAGE=temporal-task-runner-base:bookworm --network host .).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# pg_dump/psql for the maintenance tasks' PostgreSQL targets (the local base has them).
RUN command -v pg_dump >/dev/null \
    || (apt-get update \
        && apt-get install -y --no-install-recommends postgresql-client \
        && rm -rf /var/lib/apt/lists/*)

# The runner's user (uid/gid 10001, as docker-compose.yml's `user:` says) owns /data and
# nothing else: the code under /app and site-packages stay root's, read-only to it.
RUN groupadd --system --gid 10001 taskrunner \
    && useradd --system --uid 10001 --gid taskrunner --create-home \
        --home-dir /home/taskrunner --shell /usr/sbin/nologin taskrunner \
    && mkdir -p /data \
    && chown taskrunner:taskrunner /data \
    && chmod 0700 /data

# A virtualenv: Debian's own Python refuses system-wide pip installs (PEP 668).
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/taskrunner \
    PATH=/opt/taskrunner/bin:$PATH
RUN python3 -m venv /opt/taskrunner
# Build-time only: a CA bundle for pip (a network inspecting TLS), a package index mirror.
ARG PIP_CERT
ARG PIP_INDEX_URL
WORKDIR /app

# What the container runs, first: a step after the source would be redone (a whole file
# system copy on vfs) with every source change.
ENV TASKRUNNER_DATA_DIR=/data
VOLUME ["/data"]
# Healthy while this container's worker polls its task queue (see taskrunner/healthcheck.py).
HEALTHCHECK --interval=30s --timeout=30s --start-period=30s --retries=3 \
    CMD ["python", "-m", "taskrunner.healthcheck"]
CMD ["python", "worker.py"]

# Dependencies first, from pyproject.toml alone and an empty stand-in of the package:
# this layer is rebuilt only when pyproject.toml changes, not with every source edit.
COPY pyproject.toml ./
RUN mkdir -p taskrunner workflows activities \
    && touch README.md starter.py worker.py \
        taskrunner/__init__.py workflows/__init__.py activities/__init__.py \
    && pip install . \
    && rm -rf /app/*

# Then the source (what .dockerignore lets in: the package, its entry points, README),
# installed over the stand-in without touching the dependencies, and compiled now: the
# container's file system is read-only at run time. One COPY and one RUN: each step
# copies the whole file system on storage drivers without overlays (vfs).
COPY . ./
RUN pip install --no-deps --force-reinstall . \
    && rm -rf build ./*.egg-info \
    && python -m compileall -q /app

USER 10001:10001
