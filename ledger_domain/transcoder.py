"""A faster transcoder for stored events, wire-compatible with eventsourcing's JSONTranscoder.

``orjson`` encodes the event state in C and calls back only for Decimal and datetime, which
are tagged exactly as eventsourcing tags them (``decimal_str``, ``datetime_iso``), so events
written here decode with the stock transcoder and vice versa. Encoding was most of the cost
of storing a fill with the stock JSON encoder. Ledger events hold no UUID fields (the
originator id is stored apart by the mapper); orjson would write a UUID as a bare string.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from eventsourcing.persistence import DatetimeAsISO, DecimalAsStr, JSONTranscoder, UUIDAsHex

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME


def _tag(value: Any) -> dict[str, str]:
    kind = type(value)
    if kind is Decimal:
        return {"_type_": "decimal_str", "_data_": str(value)}
    if kind is datetime:
        return {"_type_": "datetime_iso", "_data_": value.isoformat()}
    raise TypeError(f"Object of type {kind} is not serializable by the ledger transcoder")


class LedgerTranscoder(JSONTranscoder):
    """JSONTranscoder whose encoder is orjson; decoding is the stock one."""

    def __init__(self) -> None:
        super().__init__()
        for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
            self.register(transcoding)

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=_tag, option=_OPTIONS)
