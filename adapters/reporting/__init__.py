"""Reports over a period of archived runs: gathered, verified, folded, rendered.

``gather`` reads and verifies every run of a period and folds the valid ones into the
projections in time order; ``grids`` turns a view into rows of text (terminal, CSV,
HTML); ``adapters.reporting.html.render_html`` writes the self-contained HTML report.
"""

from __future__ import annotations

from adapters.reporting.gather import CountedRun, PeriodReport, SkippedRun, gather
from adapters.reporting.grids import Grid, View, grids, view_json

__all__ = [
    "CountedRun",
    "Grid",
    "PeriodReport",
    "SkippedRun",
    "View",
    "gather",
    "grids",
    "view_json",
]
