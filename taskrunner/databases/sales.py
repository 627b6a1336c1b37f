"""The demo sales rows a report's ``seed_table`` is filled with on a fresh database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEMO_SALES_ROWS = 60
"""Rows seeded into the demo sales table: one sale every 12 hours over 30 days."""
_REGIONS = ("North", "South", "East", "West")
_PRODUCTS = (("Widget", 19.99), ("Gadget", 34.50), ("Gizmo", 7.25), ("Doohickey", 12.00))


def demo_sales(now: datetime) -> list[tuple[int, datetime, str, str, int, float]]:
    """The demo rows: fixed products, regions and amounts, dated back from ``now``.

    Dates are relative to the seeding time so a fresh installation's daily,
    weekly and monthly reports all have rows (2, 14 and 60).
    """
    anchor = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    rows = []
    for i in range(DEMO_SALES_ROWS):
        product, price = _PRODUCTS[(i + i // 4) % len(_PRODUCTS)]
        quantity = 1 + (i * 7) % 5
        sold_at = anchor - timedelta(hours=12 * i + 1)
        rows.append(
            (i + 1, sold_at, _REGIONS[i % 4], product, quantity, round(quantity * price, 2))
        )
    return rows
