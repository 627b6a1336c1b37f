"""Notifications: what workflows say happened, and the channels that deliver it."""
