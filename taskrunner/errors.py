"""Errors a user can cause and fix: each carries one line saying what and what to do."""


class UserError(Exception):
    """A problem in the user's input or environment, shown as one line (never a traceback)."""


class ConfigError(UserError):
    """A setting has an invalid value."""


class ServerUnreachableError(UserError):
    """The Temporal server could not be reached."""
