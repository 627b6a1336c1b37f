"""The report's chart: one column summed per day, stacked by another, drawn as a PNG.

matplotlib is imported only when a chart is drawn (the worker does not pay for it at
start), without pyplot (no global figure state, no GUI backend): a ``Figure`` on the
Agg canvas. Its config and font cache go in the data dir, not in ``$HOME``.
"""

from __future__ import annotations

import io
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from taskrunner.tasks.report_files import ReportDocument, cell_text
from taskrunner.tasks.report_table import ReportLayoutError, group_key, number

MATPLOTLIB_DIR = Path("cache", "matplotlib")
"""matplotlib's config and font cache folder, under the data dir (``MPLCONFIGDIR``)."""
MAX_SERIES = 8
"""Stacks drawn at most: past that, the smallest are added up as ``OTHER``."""
OTHER = "Other"
MAX_FILLED_DAYS = 366
"""Days with no rows are drawn as empty bars while the chart spans at most this many."""
MAX_DAY_LABELS = 8
"""Dates written under the bars at most (every n-th day past that)."""
MIN_SLOTS = 7
"""Bar slots the chart is at least wide: a 2-day chart does not get 2 huge bars."""
CHART_INCHES = (7.5, 3.0)
CHART_DPI = 200

_matplotlib_lock = threading.Lock()
"""Held while matplotlib is imported or draws: it is not thread-safe, and reports run in
the worker's threads."""


@dataclass(frozen=True)
class ChartData:
    """What the chart shows: a value per day for each stack, in drawing order."""

    title: str
    y_label: str
    days: list[date]
    series: dict[str, list[float]]


def _day(value: Any, column: str) -> date | None:
    if value is None or value == "":
        return None
    moment = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            moment = None
    if isinstance(moment, datetime):
        return (moment.astimezone(UTC) if moment.tzinfo else moment).date()
    if isinstance(moment, date):
        return moment
    raise ReportLayoutError(
        f"chart column {column!r} holds {cell_text(value)!r}, not a date or a time"
    )


def _span(first: date, last: date) -> Iterator[date]:
    return (first + timedelta(days=n) for n in range((last - first).days + 1))


def chart_data(doc: ReportDocument) -> ChartData | None:
    """The chart's sums, or None when the report has no chart or no rows to draw."""
    chart = doc.chart
    if chart is None or not doc.rows:
        return None
    x, y = doc.header.index(chart.x), doc.header.index(chart.y)
    stack = doc.header.index(chart.stack) if chart.stack else None
    sums: dict[str, dict[date, Decimal]] = {}
    for row in doc.rows:
        day, value = _day(row[x], chart.x), number(row[y], chart.y)
        if day is None or value is None:
            continue
        per_day = sums.setdefault(chart.y if stack is None else group_key(row[stack]), {})
        per_day[day] = per_day.get(day, Decimal(0)) + value
    seen = {day for per_day in sums.values() for day in per_day}
    if not seen:
        return None
    # The whole period, so that a quiet day shows as a gap, not as a missing date.
    window = {doc.start.astimezone(UTC).date(), doc.end.astimezone(UTC).date()}
    first, last = min(seen | window), max(seen | window)
    days = list(_span(first, last)) if (last - first).days < MAX_FILLED_DAYS else sorted(seen)
    ranked = sorted(sums, key=lambda key: -abs(sum(sums[key].values(), Decimal(0))))
    kept = sorted(
        ranked if len(ranked) <= MAX_SERIES else ranked[: MAX_SERIES - 1], key=str.casefold
    )
    series = {key: [float(sums[key].get(day, 0)) for day in days] for key in kept}
    if len(kept) < len(ranked):
        rest = [key for key in ranked if key not in kept]
        series[OTHER] = [float(sum(sums[key].get(day, 0) for key in rest)) for day in days]
    by = f" by {chart.stack}" if chart.stack else ""
    return ChartData(title=f"{chart.y} per day{by}", y_label=chart.y, days=days, series=series)


def _import_matplotlib(config_dir: Path) -> None:
    """Import matplotlib with ``MPLCONFIGDIR`` at ``config_dir``, unless the user set it.

    matplotlib reads the variable once, when it first looks for its config and font
    cache; it is set for that import only, so no child process inherits it.
    """
    if "matplotlib.font_manager" in sys.modules or os.environ.get("MPLCONFIGDIR"):
        return
    config_dir.mkdir(parents=True, exist_ok=True)
    os.environ["MPLCONFIGDIR"] = str(config_dir)
    try:
        import matplotlib.font_manager  # noqa: F401  (finds or builds the font cache)
    finally:
        os.environ.pop("MPLCONFIGDIR", None)


def draw_chart(data: ChartData, data_dir: Path) -> bytes:
    """The chart as PNG bytes; matplotlib keeps its cache in ``data_dir``."""
    with _matplotlib_lock:
        _import_matplotlib(data_dir / MATPLOTLIB_DIR)
        return _draw(data)


def _draw(data: ChartData) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=CHART_INCHES, dpi=CHART_DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    # One slot per day, labelled every few days; a short period's few bars are centred
    # at a normal bar width rather than stretched across the whole chart.
    slots = list(range(len(data.days)))
    every = -(-len(slots) // MAX_DAY_LABELS)
    axes.set_xticks(slots[::every], [f"{day:%b %d}" for day in data.days[::every]])
    pad = max(0.6, (MIN_SLOTS - len(slots)) / 2)
    axes.set_xlim(-pad, len(slots) - 1 + pad)
    # Positive values stack upwards from 0, negative ones downwards.
    above, below = [0.0] * len(slots), [0.0] * len(slots)
    for label, values in data.series.items():
        bottom = [a if v >= 0 else b for v, a, b in zip(values, above, below, strict=True)]
        axes.bar(slots, values, bottom=bottom, width=0.8, label=label)
        above = [a + max(v, 0) for v, a in zip(values, above, strict=True)]
        below = [b + min(v, 0) for v, b in zip(values, below, strict=True)]
    axes.set_ylabel(data.y_label)
    if all(v.is_integer() for values in data.series.values() for v in values):
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts: no 0.25 ticks
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)
    axes.spines[["top", "right"]].set_visible(False)
    if len(data.series) > 1:
        # Listed top down as the stacks are drawn, the last one on top.
        handles, labels = axes.get_legend_handles_labels()
        axes.legend(
            handles[::-1],
            labels[::-1],
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            fontsize="small",
        )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()
