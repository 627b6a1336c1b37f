"""Names both sides of the peer benchmark use (no Celery import: the check needs none)."""

REDIS_URL = "redis://127.0.0.1:6379/15"
"""The machine's Redis, database 15: the benchmark's alone (it flushes that db only)."""
CELERY_QUEUE = "bench-peer"
"""The Celery queue the worker consumes."""
SMTP_TIMEOUT_SECONDS = 30.0
"""Socket timeout of one SMTP connection (the runner's smtp.timeout_seconds default)."""
FROM_ADDRESS = "taskrunner@localhost"
"""Sender of the benchmark's emails (the runner's smtp.from_address default)."""
