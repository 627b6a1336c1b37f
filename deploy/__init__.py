"""Building and proving the worker image: ``python -m deploy.image``, ``make deploy-test``."""
