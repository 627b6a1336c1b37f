"""Byte counts as people read them."""

from __future__ import annotations

_UNITS = ["B", "KB", "MB", "GB", "TB", "PB"]
_STEP = 1000.0
"""Decimal (SI) units, so "MB" means what it says."""


def human_size(size: int) -> str:
    """``1234567`` -> ``"1.2 MB"``; bytes are shown whole (``"512 B"``)."""
    value = float(size)
    for unit in _UNITS:
        if abs(value) < _STEP or unit == _UNITS[-1]:
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= _STEP
    raise AssertionError("unreachable")
