"""Watching the runner: Prometheus metrics, search attributes, task context in logs."""
