"""The runner's Temporal Schedules: declarations, cron checks, and operations on the server."""
