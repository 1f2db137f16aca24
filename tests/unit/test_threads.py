"""Many threads recording at once: every fill kept, totals exact."""

from __future__ import annotations

import threading
from decimal import Decimal

from ledger_domain import TradeLedgerService
from tests.builders import order

THREADS = 8
FILLS_PER_THREAD = 500


def test_eight_threads_thousands_of_fills_exact_totals() -> None:
    service = TradeLedgerService("threads")
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        start.wait()
        try:
            for i in range(FILLS_PER_THREAD):
                # 50 orders per worker, each filled in 10 executions; odd orders buy
                result = order(
                    order_id=f"w{worker}-{i % 50}",
                    action="BUY" if (i % 50) % 2 else "SELL",
                    shares=Decimal("0.1"),
                    price=Decimal("100.01") + worker,
                )
                service.record_execution(result, "threads", execution_id=f"w{worker}-e{i}")
                # and a duplicate of every tenth execution, which must be a no-op
                if i % 10 == 0:
                    service.record_execution(result, "threads", execution_id=f"w{worker}-e{i}")
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    ledger = service.get_ledger()
    assert ledger.total_entries == THREADS * 50
    per_side = FILLS_PER_THREAD // 2
    expected_buy = sum(
        (Decimal("0.1") * (Decimal("100.01") + w) * per_side for w in range(THREADS)), Decimal(0)
    )
    assert ledger.total_buy_value == expected_buy
    assert ledger.total_sell_value == expected_buy
    assert all(e.filled_qty == Decimal("1.0") for e in ledger.entries)
    assert len(service.events()) == 1 + THREADS * FILLS_PER_THREAD
