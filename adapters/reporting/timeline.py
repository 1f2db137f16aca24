"""What the HTML report plots, collected while the runs are folded, in bounded memory.

- realised P&L per strategy after each run (exact Decimals, one point per run);
- buy and sell notional per UTC day of the fills (exact sums);
- slippage in basis points per symbol and per strategy: a sample of at most
  ``SAMPLE_SIZE`` fills per group (reservoir sampling with a fixed seed, so the same
  archive gives the same plot), as floats: the plots draw them, no number is computed
  from them.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from ledger_domain import Ledger, Side
from projections import attribution, fill_quality
from projections.arithmetic import ZERO, add, multiply

SAMPLE_SIZE = 2000
SEED = 11


class Sample:
    """A uniform sample of at most ``SAMPLE_SIZE`` values (Algorithm R, seeded)."""

    __slots__ = ("_random", "count", "values")

    def __init__(self) -> None:
        self.values: list[float] = []
        self.count = 0
        self._random = random.Random(SEED)  # noqa: S311 (a plot sample, not a secret)

    def add(self, value: float) -> None:
        self.count += 1
        if len(self.values) < SAMPLE_SIZE:
            self.values.append(value)
            return
        slot = self._random.randrange(self.count)
        if slot < SAMPLE_SIZE:
            self.values[slot] = value


class Timeline:
    """Per-run P&L points, per-day notional, per-group slippage samples."""

    def __init__(self) -> None:
        self.pnl: list[tuple[datetime, dict[str | None, Decimal]]] = []
        self.daily: dict[date, tuple[Decimal, Decimal]] = {}
        self.slippage_by_symbol: dict[str | None, Sample] = {}
        self.slippage_by_strategy: dict[str | None, Sample] = {}

    def add_run(self, events: Iterable[object]) -> None:
        """Fold one run's fills into the daily notional and the slippage samples."""
        for event in events:
            if isinstance(event, Ledger.FillRecorded):
                self._fill(event)

    def mark_pnl(self, when: datetime, realised: dict[str | None, Decimal]) -> None:
        """Realised P&L per strategy after a run (cumulative since the period began)."""
        self.pnl.append((when, dict(realised)))

    def _fill(self, fill: Ledger.FillRecorded) -> None:
        day = fill.filled_at.date()
        buy, sell = self.daily.get(day, (ZERO, ZERO))
        value = multiply(fill.quantity, fill.price)
        if fill.side is Side.BUY:
            buy = add(buy, value)
        else:
            sell = add(sell, value)
        self.daily[day] = (buy, sell)
        quality = fill_quality(fill)
        if quality is None:
            return
        bps = float(quality.slippage_bps)
        _group(self.slippage_by_symbol, fill.symbol).add(bps)
        for name, *_ in attribution(fill):
            _group(self.slippage_by_strategy, name).add(bps)

    @property
    def strategies(self) -> list[str | None]:
        """Every strategy with a P&L point, by name, unattributed last."""
        names = {name for _, realised in self.pnl for name in realised}
        return sorted(names, key=lambda name: (name is None, name or ""))


def _group(groups: dict[str | None, Sample], name: str | None) -> Sample:
    found = groups.get(name)
    if found is None:
        found = groups[name] = Sample()
    return found
