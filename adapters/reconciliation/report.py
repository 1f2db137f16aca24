"""What a reconciliation found: each discrepancy, the counts, and their JSON and text forms."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

Kind = Literal[
    "missing_from_ledger",
    "unknown_to_broker",
    "quantity_mismatch",
    "price_mismatch",
    "symbol_or_side_mismatch",
]
MISMATCH_KINDS = frozenset({"quantity_mismatch", "price_mismatch", "symbol_or_side_mismatch"})


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """One difference between the ledgers and the broker."""

    kind: Kind
    order_id: str
    symbol: str
    execution_id: str | None = None
    ledger_id: str | None = None
    ledger_quantity: Decimal | None = None
    broker_quantity: Decimal | None = None
    ledger_price: Decimal | None = None
    broker_price: Decimal | None = None
    detail: str = ""

    def describe(self) -> str:
        where = f"order {self.order_id}"
        if self.execution_id and self.execution_id != self.order_id:
            where += f" execution {self.execution_id}"
        return f"{self.kind}: {self.symbol} {where}: {self.detail}"

    def as_dict(self) -> dict[str, Any]:
        return {
            name: (str(value) if isinstance(value, Decimal) else value)
            for name, value in (
                ("kind", self.kind),
                ("order_id", self.order_id),
                ("symbol", self.symbol),
                ("execution_id", self.execution_id),
                ("ledger_id", self.ledger_id),
                ("ledger_quantity", self.ledger_quantity),
                ("broker_quantity", self.broker_quantity),
                ("ledger_price", self.ledger_price),
                ("broker_price", self.broker_price),
                ("detail", self.detail),
            )
        }


@dataclass
class ReconciliationReport:
    """The comparison's outcome; ``ok`` when ledgers and broker agree."""

    period_start: datetime
    period_end: datetime
    ledger_ids: list[str] = field(default_factory=list)
    ledger_fills: int = 0
    broker_fills: int = 0
    matched: int = 0
    discrepancies: list[Discrepancy] = field(default_factory=list)
    unreadable_runs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No discrepancy, and every run could be read."""
        return not self.discrepancies and not self.unreadable_runs

    def of_kind(self, *kinds: str) -> list[Discrepancy]:
        return [d for d in self.discrepancies if d.kind in kinds]

    @property
    def missing_from_ledger(self) -> list[Discrepancy]:
        return self.of_kind("missing_from_ledger")

    @property
    def unknown_to_broker(self) -> list[Discrepancy]:
        return self.of_kind("unknown_to_broker")

    @property
    def mismatches(self) -> list[Discrepancy]:
        return self.of_kind(*MISMATCH_KINDS)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "ledger_ids": self.ledger_ids,
            "ledger_fills": self.ledger_fills,
            "broker_fills": self.broker_fills,
            "matched": self.matched,
            "missing_from_ledger": len(self.missing_from_ledger),
            "unknown_to_broker": len(self.unknown_to_broker),
            "mismatches": len(self.mismatches),
            "discrepancies": [d.as_dict() for d in self.discrepancies],
            "unreadable_runs": self.unreadable_runs,
            "notes": self.notes,
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def summary(self) -> str:
        verdict = "OK" if self.ok else f"{len(self.discrepancies)} discrepancy(ies)"
        if self.unreadable_runs:
            verdict += f", {len(self.unreadable_runs)} unreadable run(s)"
        return (
            f"{self.period_start:%Y-%m-%d %H:%M:%S} .. {self.period_end:%Y-%m-%d %H:%M:%S} UTC: "
            f"{len(self.ledger_ids)} run(s), {self.ledger_fills} ledger fill(s), "
            f"{self.broker_fills} broker fill(s), {self.matched} matched: {verdict} "
            f"({len(self.missing_from_ledger)} missing from ledger, "
            f"{len(self.unknown_to_broker)} unknown to broker, {len(self.mismatches)} mismatched)"
        )
