"""Peer figures of `make bench`: the same workloads on Celery + Redis and on the runner.

Celery comes from the optional ``bench`` extra (``pip install -e '.[dev,bench]'``,
which `make bench` runs); without it, or without Redis, the peer figures are n/a.
"""
