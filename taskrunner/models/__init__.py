"""Pydantic models passed in and out of workflows and activities."""
