"""The broker's own record of fills: ``GET /v2/account/activities/FILL``, every page.

Fetched through alpaca-py's ``TradingClient.get`` (its auth, retries and base URL), in
ascending time order, ``page_size`` at a time, the next page asked for with the id of the
last activity of the previous one (``page_token``), until a short page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.brokers.alpaca.mapping import activity_fill
from adapters.brokers.port import BrokerError
from ledger_domain import Fill
from ledger_domain.models import as_utc

FILL_ACTIVITIES_PATH = "/account/activities/FILL"
MAX_PAGE_SIZE = 100
MAX_PAGES = 10_000


def _rfc3339(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


def fetch_fill_activities(
    client: Any,
    *,
    after: datetime | None = None,
    until: datetime | None = None,
    page_size: int = MAX_PAGE_SIZE,
) -> list[Fill]:
    """Every fill with ``after <= transaction_time < until`` (either bound optional).

    Raises ``BrokerError`` if a page is not a list, or pagination does not advance.
    """
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
    params: dict[str, Any] = {"direction": "asc", "page_size": page_size}
    if after is not None:
        params["after"] = _rfc3339(after)  # Alpaca's `after` is exclusive; bounds re-checked below
    if until is not None:
        params["until"] = _rfc3339(until)
    fills: dict[str, Fill] = {}
    tokens: set[str] = set()
    for _ in range(MAX_PAGES):
        page = client.get(FILL_ACTIVITIES_PATH, dict(params))
        if page is None:
            page = []
        if not isinstance(page, list):
            raise BrokerError(f"{FILL_ACTIVITIES_PATH} answered {type(page).__name__}, not a list")
        for raw in page:
            fill = activity_fill(raw)
            fills.setdefault(fill.execution_id, fill)
        if len(page) < page_size:
            break
        token = str(page[-1].get("id", ""))
        if not token or token in tokens:
            raise BrokerError(f"{FILL_ACTIVITIES_PATH}: pagination does not advance at {token!r}")
        tokens.add(token)
        params["page_token"] = token
    else:
        raise BrokerError(f"{FILL_ACTIVITIES_PATH}: more than {MAX_PAGES} pages")
    start = as_utc(after) if after is not None else None
    end = as_utc(until) if until is not None else None
    selected = [
        f
        for f in fills.values()
        if (start is None or f.filled_at >= start) and (end is None or f.filled_at < end)
    ]
    return sorted(selected, key=lambda f: (f.filled_at, f.execution_id))
