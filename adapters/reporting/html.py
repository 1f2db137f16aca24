"""The HTML report: one self-contained file, readable offline.

Everything is inside the file: CSS in a ``<style>`` element, plots as inline SVG drawn by
matplotlib (``adapters.reporting.plots``), no script, no font, no link to anything
outside. Every text from a document (symbols, strategy names, keys) is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from adapters.reporting.gather import PeriodReport
from adapters.reporting.grids import Grid, View, grids, text
from adapters.reporting.plots import notional_plot, pnl_plot, slippage_plot
from adapters.reporting.timeline import Timeline

PLOT_IDS = ("plot-pnl", "plot-slippage-symbol", "plot-slippage-strategy", "plot-notional")
"""The ``id`` of each plot's ``<figure>``, in page order."""

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; background: #fff; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; vertical-align: top; }
th { background: #f0f0f0; text-align: left; }
td.number { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.name, td.id { white-space: nowrap; }
.bad { color: #b00020; } .note { color: #555; font-size: 0.85em; }
"""


def _table(grid: Grid) -> str:
    if not grid.rows:
        return f"<h2>{escape(grid.title)}</h2><p class='note'>no fills</p>"
    head = "".join(f"<th>{escape(header)}</th>" for header in grid.headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='{kind}'>{escape(cell)}</td>"
            for kind, cell in zip(grid.kinds, row, strict=True)
        )
        + "</tr>"
        for row in grid.rows
    )
    return f"<h2>{escape(grid.title)}</h2><table><tr>{head}</tr>{body}</table>"


def _daily(timeline: Timeline) -> Grid:
    rows = tuple(
        (day.isoformat(), text(buy), text(sell))
        for day, (buy, sell) in sorted(timeline.daily.items())
    )
    return Grid(
        "Notional per day (UTC)",
        ("day", "buy_notional", "sell_notional"),
        ("name", "number", "number"),
        rows,
    )


def _skipped(period: PeriodReport) -> str:
    if not period.skipped:
        return "<p>Every run of the period verified and is counted.</p>"
    rows = "".join(
        f"<tr><td class='id'>{escape(run.key)}</td><td class='bad'>{escape(run.status)}</td>"
        f"<td>{escape(run.reason)}</td></tr>"
        for run in period.skipped
    )
    return (
        f"<p class='bad'>{len(period.skipped)} run(s) left out of every number below:</p>"
        f"<table><tr><th>key</th><th>status</th><th>reason</th></tr>{rows}</table>"
    )


def _figure(plot_id: str, svg: str, caption: str) -> str:
    note = f"<figcaption class='note'>{escape(caption)}</figcaption>"
    return f"<figure id='{plot_id}'>{svg}{note}</figure>"


def render_html(period: PeriodReport) -> str:
    """The whole report as one HTML document."""
    timeline = period.timeline if period.timeline is not None else Timeline()
    span = str(period.first) if period.first == period.last else f"{period.first} .. {period.last}"
    title = f"Trade ledger report {span}"
    fills = sum(run.fills for run in period.runs)
    plots = "".join(
        (
            _figure(
                PLOT_IDS[0],
                pnl_plot(timeline),
                "Realised P&L per strategy since the start of the period, after each run.",
            ),
            _figure(
                PLOT_IDS[1],
                slippage_plot(timeline.slippage_by_symbol, "symbol"),
                "Slippage of fills with a full quote, against the quoted mid.",
            ),
            _figure(
                PLOT_IDS[2],
                slippage_plot(timeline.slippage_by_strategy, "strategy"),
                "Each fill counts for every strategy it is attributed to.",
            ),
            _figure(PLOT_IDS[3], notional_plot(timeline), "Exact sums in the table below."),
        )
    )
    tables = "".join(
        _table(grid) for view in View for grid in grids(period.report, view, exact=False)
    )
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>Archive {escape(period.location)}: {len(period.runs)} run(s), {fills} fill(s) "
        "counted. Amounts are exact; average prices and basis points are rounded for "
        "display (<code>--csv</code> and <code>--json</code> give every digit).</p>"
        f"{_skipped(period)}<h2>Plots</h2>{plots}{tables}"
        f"{_table(_daily(timeline))}</body></html>\n"
    )
