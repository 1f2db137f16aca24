"""The HTML report's plots, drawn by matplotlib as SVG text (no JavaScript, no network).

``matplotlib.figure.Figure`` is used directly (no pyplot, no GUI backend, no global
state), text is drawn as paths (``svg.fonttype = "path"``: no font is needed to view
it), and each figure gets its own ``svg.hashsalt`` so the ids of several inline SVGs
never collide and the same data gives the same bytes. Values are plotted as floats: a
plot is a picture; the exact numbers are in the tables beside it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

from adapters.reporting.grids import strategy_name
from adapters.reporting.timeline import Sample, Timeline

MAX_GROUPS = 25
"""Box plots show the groups with the most quoted fills, at most this many."""
WIDTH, HEIGHT = 9.0, 4.2
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)


def _svg(figure: Figure, name: str) -> str:
    """The figure as an ``<svg>`` element (XML prologue and doctype removed)."""
    buffer = io.StringIO()
    with mpl.rc_context({"svg.fonttype": "path", "svg.hashsalt": f"trade-ledger-{name}"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return _PROLOGUE.sub("", buffer.getvalue(), count=1)


def _figure() -> Figure:
    figure = Figure(figsize=(WIDTH, HEIGHT), layout="constrained")
    figure.set_facecolor("white")
    return figure


def _empty(figure: Figure, title: str, message: str) -> None:
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)
    axes.set_xticks([])
    axes.set_yticks([])


def pnl_plot(timeline: Timeline) -> str:
    """Cumulative realised P&L per strategy, one step line each, after every run."""
    figure = _figure()
    title = "Cumulative realised P&L per strategy (FIFO)"
    if not timeline.pnl:
        _empty(figure, title, "no runs in the period")
        return _svg(figure, "pnl")
    axes = figure.add_subplot()
    times: Any = [when for when, _ in timeline.pnl]  # matplotlib converts datetimes
    for name in timeline.strategies:
        values = [float(realised.get(name, 0)) for _, realised in timeline.pnl]
        axes.step(times, values, where="post", label=strategy_name(name), linewidth=1.8)
    axes.axhline(0, color="#888888", linewidth=0.8)
    axes.set_title(title)
    axes.set_ylabel("realised P&L")
    axes.legend(loc="best", fontsize="small")
    axes.grid(visible=True, alpha=0.3)
    figure.autofmt_xdate()
    return _svg(figure, "pnl")


def slippage_plot(samples: dict[str | None, Sample], by: str) -> str:
    """Slippage in basis points per group, as horizontal box plots."""
    figure = _figure()
    title = f"Slippage per {by} (bps; positive = cost)"
    groups = sorted(samples.items(), key=lambda item: (-item[1].count, strategy_name(item[0])))
    groups = [item for item in groups if item[1].values][:MAX_GROUPS]
    if not groups:
        _empty(figure, title, "no fill with a full quote")
        return _svg(figure, f"slippage-{by}")
    figure.set_figheight(max(HEIGHT, 1.2 + 0.35 * len(groups)))
    axes = figure.add_subplot()
    labels = [strategy_name(name) for name, _ in groups]
    axes.boxplot(
        [sample.values for _, sample in groups],
        orientation="horizontal",
        tick_labels=labels,
        patch_artist=True,
        boxprops={"facecolor": "#9ecae1"},
    )
    axes.axvline(0, color="#888888", linewidth=0.8)
    axes.set_title(title)
    axes.set_xlabel("slippage (bps)")
    axes.grid(visible=True, axis="x", alpha=0.3)
    return _svg(figure, f"slippage-{by}")


def notional_plot(timeline: Timeline) -> str:
    """Buy and sell notional per UTC day, side by side."""
    figure = _figure()
    title = "Buy and sell notional per day (UTC)"
    days = sorted(timeline.daily)
    if not days:
        _empty(figure, title, "no fills in the period")
        return _svg(figure, "notional")
    axes = figure.add_subplot()
    positions = list(range(len(days)))
    buys = [float(timeline.daily[day][0]) for day in days]
    sells = [float(timeline.daily[day][1]) for day in days]
    axes.bar([p - 0.2 for p in positions], buys, width=0.4, label="buy", color="#2b8cbe")
    axes.bar([p + 0.2 for p in positions], sells, width=0.4, label="sell", color="#e34a33")
    axes.set_xticks(positions, _day_labels([day.isoformat() for day in days]), rotation=45)
    axes.set_title(title)
    axes.set_ylabel("notional")
    axes.legend(loc="best", fontsize="small")
    axes.grid(visible=True, axis="y", alpha=0.3)
    return _svg(figure, "notional")


def _day_labels(days: Sequence[str], most: int = 20) -> list[str]:
    """Every day's label when few, else every n-th (the others blank) so they stay legible."""
    step = max(1, -(-len(days) // most))
    return [day if index % step == 0 else "" for index, day in enumerate(days)]
