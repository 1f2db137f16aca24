"""Nothing the ledger hands out can be changed to alter what it stored or what others read.

Two runs record the same arbitrary fills (sharing the plan and quote objects, as an
executor does); then every object reachable from what either run handed out (events as
stored, events given to a subscriber, records, entries, ledgers) is attacked with every
mutating operation its type offers. Afterwards both runs' stored streams, snapshots and
everything handed out before read exactly as they did.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from pydantic import BaseModel

from ledger_domain import TradeLedgerService, to_record
from tests.property.strategies import as_inputs, executions

ATOMS = (str, bytes, int, float, Decimal, datetime, date, UUID, Enum, type(None), bool)
JUNK: Any = Decimal("-999")


class Collector:
    """A subscriber that keeps every event it is given (the live objects)."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def apply(self, event: Any) -> None:
        self.events.append(event)


def _mutations(target: Any) -> Iterator[Callable[[], object]]:
    """Every in-place change the type of ``target`` offers, as calls to try."""
    if isinstance(target, dict):
        for key in list(target):
            yield lambda key=key: target.__setitem__(key, JUNK)
            yield lambda key=key: target.__delitem__(key)
            yield lambda key=key: target.pop(key)
        yield lambda: target.__setitem__("intruder", JUNK)
        yield lambda: target.update({"intruder": JUNK})
        yield lambda: target.setdefault("intruder", JUNK)
        yield lambda: target.__ior__({"intruder": JUNK})
        yield target.popitem
        yield target.clear
    elif isinstance(target, list):
        yield lambda: target.append(JUNK)
        yield lambda: target.extend([JUNK])
        yield lambda: target.insert(0, JUNK)
        yield lambda: target.__iadd__([JUNK])
        yield lambda: target.__imul__(2)
        yield target.reverse
        yield lambda: target.sort(key=str, reverse=True)
        if target:
            yield lambda: target.__setitem__(0, JUNK)
            yield lambda: target.__delitem__(0)
            yield lambda: target.remove(target[0])
            yield target.pop
        yield target.clear
    elif isinstance(target, set):
        yield lambda: target.add("intruder")
        yield lambda: target.__ior__({"intruder"})
        yield target.clear
    else:
        names = (
            list(type(target).model_fields)
            if isinstance(target, BaseModel)
            else list(getattr(target, "__dict__", {}))
        )
        for name in names:
            yield lambda name=name: setattr(target, name, JUNK)
            yield lambda name=name: delattr(target, name)


def _children(target: Any) -> list[Any]:
    if isinstance(target, dict):
        return [*target.keys(), *target.values()]
    if isinstance(target, list | tuple | set | frozenset):
        return list(target)
    if isinstance(target, BaseModel):
        return [getattr(target, name) for name in type(target).model_fields] + [
            target.model_fields_set
        ]
    return list(getattr(target, "__dict__", {}).values())


def attack(*roots: Any) -> int:
    """Try every mutation on everything reachable from ``roots``; how many succeeded."""
    seen: set[int] = set()
    stack = list(roots)
    succeeded = 0
    while stack:
        target = stack.pop()
        if isinstance(target, ATOMS) or id(target) in seen:
            continue
        seen.add(id(target))
        stack.extend(_children(target))
        for mutate in _mutations(target):
            try:
                mutate()
                succeeded += 1
            except Exception:  # refused: exactly what should happen
                continue
    return succeeded


def observed(service: TradeLedgerService) -> str:
    """Everything a reader can get from a run, as exact JSON text."""
    ledger = service.get_ledger()
    return json.dumps(
        {
            "stream": [to_record(event) for event in service.events()],
            "ledger": ledger.model_dump(mode="json"),
            "by_symbol": {
                entry.symbol: [
                    e.model_dump(mode="json") for e in service.get_entries_for_symbol(entry.symbol)
                ]
                for entry in ledger.entries
            },
        },
        sort_keys=True,
    )


def dump(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return [dump(item) for item in value]


@settings(max_examples=40, deadline=None)
@given(executions(count=12))
def test_nothing_handed_out_can_change_what_is_stored(stream: list[dict[str, Any]]) -> None:
    runs = [TradeLedgerService("run-a"), TradeLedgerService("run-b")]
    collectors = [Collector(), Collector()]
    inputs = [as_inputs(execution) for execution in stream]
    handed_out: list[Any] = []
    for run, collector in zip(runs, collectors, strict=True):
        run.subscribe(collector)
        for (order, plan, quote), execution in zip(inputs, stream, strict=True):
            handed_out.append(
                run.record_execution(
                    order,
                    run.correlation_id or "",
                    rebalance_plan=plan,
                    quote_at_fill=quote,
                    execution_id=execution["execution_id"],
                )
            )
        handed_out.append(run.get_ledger())
        handed_out.extend(run.get_entries_for_strategy("momentum"))
    runs[0].close()
    handed_out.append(runs[0].get_ledger())
    before = [observed(run) for run in runs]
    handed_before = [dump(item) for item in handed_out]

    events = [event for run in runs for event in run.events()]
    records = [to_record(event) for event in events]
    live_events = [event for collector in collectors for event in collector.events]
    attack(*events, *live_events, *records, *handed_out)

    assert [observed(run) for run in runs] == before
    assert [dump(item) for item in handed_out] == handed_before


def test_the_attack_finds_writable_objects() -> None:
    """The attack is real: it changes ordinary containers it can reach."""
    plain = {"weights": {"m": Decimal(1)}, "names": ["m"]}
    assert attack(plain) > 0
    assert plain != {"weights": {"m": Decimal(1)}, "names": ["m"]}


def test_weights_read_back_by_one_run_are_not_shared_writable_with_another() -> None:
    """The reported defect: weights decoded for one run's event changed another's."""
    runs = [TradeLedgerService("a"), TradeLedgerService("b")]
    for run in runs:
        order, plan, quote = as_inputs(
            {
                "order_id": "o1",
                "symbol": "AAPL",
                "action": "BUY",
                "shares": Decimal(1),
                "price": Decimal(10),
                "time": datetime(2024, 1, 2),
                "quote": None,
                "weights": {"m": "0.6", "c": "0.4"},
            }
        )
        run.record_filled_order(order, "c", plan, quote)
    weights = runs[0].events()[1].strategy_weights
    with contextlib.suppress(TypeError):
        weights["m"] = Decimal("0.9")
    assert runs[1].events()[1].strategy_weights == {"m": Decimal("0.6"), "c": Decimal("0.4")}
    assert runs[0].events()[1].strategy_weights == {"m": Decimal("0.6"), "c": Decimal("0.4")}
