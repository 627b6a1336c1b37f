"""Scheduled database maintenance: vacuum, analyze, backup and retention inside a time window."""
