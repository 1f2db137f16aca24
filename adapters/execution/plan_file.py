"""A ``RebalancePlan`` read from a JSON file (or standard input), exactly as written or refused.

Numbers become exact ``Decimal``s through their text (``0.1`` is ``Decimal("0.1")``, never a
binary float); ``NaN``/``Infinity``, a key given twice, a field the plan does not have, a
timestamp without a time zone and a document over ``MAX_PLAN_BYTES`` are refused with a
``PlanFileError`` that names the file and says why.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from ledger_domain import RebalancePlan, RebalancePlanItem

MAX_PLAN_BYTES = 16 * 1024 * 1024
STDIN = "-"


class PlanFileError(ValueError):
    """The plan file cannot be read, or is not a valid ``RebalancePlan``."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        self.reason = reason
        super().__init__(f"plan {source}: {reason}")


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a plan can hold")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {key!r} is given twice")
        result[key] = value
    return result


def _read_bounded(handle: IO[bytes], source: str) -> bytes:
    body = handle.read(MAX_PLAN_BYTES + 1)
    if len(body) > MAX_PLAN_BYTES:
        raise PlanFileError(source, f"larger than {MAX_PLAN_BYTES} bytes")
    return body


def read_plan_bytes(source: str, stdin: IO[bytes] | None = None) -> bytes:
    """The bytes of ``source``: a path, or ``-`` for standard input (bounded either way)."""
    if source == STDIN:
        return _read_bounded(stdin if stdin is not None else sys.stdin.buffer, "<stdin>")
    path = Path(source)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise PlanFileError(source, "no such file") from None
    except OSError as error:
        raise PlanFileError(source, error.strerror or str(error)) from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise PlanFileError(source, "not a regular file")
    with os.fdopen(descriptor, "rb") as handle:
        return _read_bounded(handle, source)


def _unexpected(raw: Mapping[str, Any], model: type[Any], where: str) -> list[str]:
    return [f"{where}{key}" for key in raw if key not in model.model_fields]


def parse_plan(body: bytes, source: str) -> RebalancePlan:
    """A plan from JSON text; ``PlanFileError`` naming ``source`` if it is not one."""
    try:
        raw = json.loads(
            body,
            parse_float=Decimal,
            parse_constant=_no_constant,
            object_pairs_hook=_unique_keys,
        )
    except (ValueError, RecursionError) as error:
        raise PlanFileError(source, f"not valid JSON: {error}") from None
    if not isinstance(raw, dict):
        raise PlanFileError(source, f"expected a JSON object, got {type(raw).__name__}")
    unknown = _unexpected(raw, RebalancePlan, "")
    items = raw.get("items")
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                unknown += _unexpected(item, RebalancePlanItem, f"items.{index}.")
    if unknown:
        raise PlanFileError(source, f"fields a plan does not have: {', '.join(unknown)}")
    try:
        plan = RebalancePlan.model_validate(raw)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc']) or 'plan'}: {problem['msg']}"
            for problem in error.errors()[:5]
        )
        raise PlanFileError(source, f"not a RebalancePlan: {problems}") from None
    if not _aware(plan.timestamp):
        raise PlanFileError(source, "timestamp: give a time zone (e.g. ...Z or +00:00)")
    return plan


def _aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def read_plan(source: str, stdin: IO[bytes] | None = None) -> RebalancePlan:
    """The plan in ``source`` (a path, or ``-`` for standard input)."""
    name = "<stdin>" if source == STDIN else source
    return parse_plan(read_plan_bytes(source, stdin), name)
