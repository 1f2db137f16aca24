"""A loopback HTTP server that answers like Alpaca's REST API, for alpaca-py's real clients.

Trading API (``/v2/...``): ``POST /orders`` (422 on a repeated ``client_order_id``, 403 for
a symbol scripted to be rejected), ``GET /orders/{id}`` (each read advances the order by
one scripted execution, so a poller sees it partially filled, then filled or canceled),
``GET /orders:by_client_order_id``, ``DELETE /orders/{id}`` (cancel),
``GET /account/activities/FILL`` (``after``/``until``,
``direction``, ``page_size`` and ``page_token`` pagination). Market data API on the same
server: ``GET /v2/stocks/quotes/latest``. Payloads use Alpaca's field names and types
(quantities and prices as strings).

Tests can tamper with ``activities`` afterwards to make the broker disagree with a ledger.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

ACCOUNT_ID = "4a3a5e2b-3f43-4d64-9b4f-7a4e8d2f3c11"
API_KEY = "PKTEST000000000000"
SECRET_KEY = "loopback-secret-never-logged"


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Script:
    """How one symbol's orders fill: executions (qty, price) one per order read, then done."""

    executions: list[tuple[str, str]]
    final_status: str = "filled"


@dataclass
class FakeAlpaca:
    scripts: dict[str, Script] = field(default_factory=dict)
    quotes: dict[str, tuple[str, str]] = field(default_factory=dict)
    reject: dict[str, str] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    activities: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    headers_seen: list[dict[str, str]] = field(default_factory=list)
    lose_order_answers: int = 0
    """Create this many orders but answer HTTP 500, as if the answer were lost."""
    fail_order_reads: int = 0
    """Answer this many order reads with HTTP 500 (a blip) before answering normally."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    _progress: dict[str, int] = field(default_factory=dict)

    # -- orders --------------------------------------------------------------------------

    def create_order(self, body: dict[str, Any]) -> tuple[int, Any]:
        symbol = str(body["symbol"]).upper()
        client_id = body.get("client_order_id") or str(uuid.uuid4())
        if any(o["client_order_id"] == client_id for o in self.orders.values()):
            return 422, {"code": 40010001, "message": "client_order_id must be unique"}
        if symbol in self.reject:
            return 403, {"code": 40310000, "message": self.reject[symbol]}
        order_id = str(uuid.uuid4())
        stamp = now_iso()
        order = {
            "id": order_id,
            "client_order_id": client_id,
            "created_at": stamp,
            "updated_at": stamp,
            "submitted_at": stamp,
            "filled_at": None,
            "expired_at": None,
            "canceled_at": None,
            "failed_at": None,
            "replaced_at": None,
            "replaced_by": None,
            "replaces": None,
            "asset_id": "b0b6dd9d-8b9b-48a9-ba46-b9d54906e415",
            "symbol": symbol,
            "asset_class": "us_equity",
            "notional": str(body["notional"]) if body.get("notional") is not None else None,
            "qty": str(body["qty"]) if body.get("qty") is not None else None,
            "filled_qty": "0",
            "filled_avg_price": None,
            "order_class": "",
            "order_type": body.get("type", "market"),
            "type": body.get("type", "market"),
            "side": body["side"],
            "time_in_force": body.get("time_in_force", "day"),
            "limit_price": body.get("limit_price"),
            "stop_price": None,
            "status": "accepted",
            "extended_hours": False,
            "legs": None,
            "trail_percent": None,
            "trail_price": None,
            "hwm": None,
        }
        self.orders[order_id] = order
        self._progress[order_id] = 0
        return 200, order

    def advance(self, order_id: str) -> dict[str, Any]:
        """One read of the order: apply its next scripted execution, if any."""
        order = self.orders[order_id]
        script = self.scripts.get(order["symbol"], Script([("1", "100.00")]))
        step = self._progress[order_id]
        if order["status"] in ("filled", "canceled", "expired", "rejected"):
            return order
        if step < len(script.executions):
            qty_text, price_text = script.executions[step]
            self._progress[order_id] = step + 1
            done = step + 1 == len(script.executions)
            final = done and script.final_status == "filled"
            self._fill(order, Decimal(qty_text), Decimal(price_text), final=final)
            if final:
                order["status"] = "filled"
                order["filled_at"] = order["updated_at"]
            else:
                order["status"] = "partially_filled"
        else:
            order["status"] = script.final_status
            order["updated_at"] = now_iso()
            if script.final_status == "canceled":
                order["canceled_at"] = order["updated_at"]
        return order

    def _fill(self, order: dict[str, Any], qty: Decimal, price: Decimal, *, final: bool) -> None:
        before = Decimal(order["filled_qty"])
        before_value = before * Decimal(order["filled_avg_price"] or 0)
        after = before + qty
        average = (before_value + qty * price) / after
        stamp = datetime.now(UTC)
        order["filled_qty"] = str(after)
        order["filled_avg_price"] = str(average.quantize(Decimal("0.0001")))
        order["updated_at"] = stamp.isoformat().replace("+00:00", "Z")
        self.add_activity(order, qty, price, stamp, final=final)

    def add_activity(
        self,
        order: dict[str, Any],
        qty: Decimal,
        price: Decimal,
        when: datetime,
        *,
        final: bool,
    ) -> dict[str, Any]:
        """A fill activity as ``/v2/account/activities/FILL`` returns it."""
        filled = Decimal(order["filled_qty"])
        leaves = Decimal(0) if final or not order.get("qty") else Decimal(order["qty"]) - filled
        activity = {
            "id": f"{when:%Y%m%d%H%M%S}{when.microsecond // 1000:03d}::{uuid.uuid4()}",
            "account_id": ACCOUNT_ID,
            "activity_type": "FILL",
            "transaction_time": when.isoformat().replace("+00:00", "Z"),
            "type": "fill" if final else "partial_fill",
            "price": str(price),
            "qty": str(qty),
            "side": order["side"],
            "symbol": order["symbol"],
            "leaves_qty": str(leaves),
            "order_id": order["id"],
            "cum_qty": order["filled_qty"],
            "order_status": "filled" if final else "partially_filled",
        }
        self.activities.append(activity)
        return activity

    # -- activities ----------------------------------------------------------------------

    def fill_page(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        items = sorted(self.activities, key=lambda a: (a["transaction_time"], a["id"]))
        if query.get("direction", ["desc"])[0] == "desc":
            items.reverse()
        if "after" in query:
            after = parse_time(query["after"][0])
            items = [a for a in items if parse_time(a["transaction_time"]) > after]
        if "until" in query:
            until = parse_time(query["until"][0])
            items = [a for a in items if parse_time(a["transaction_time"]) < until]
        token = query.get("page_token", [None])[0]
        if token is not None:
            ids = [a["id"] for a in items]
            items = items[ids.index(token) + 1 :] if token in ids else []
        size = int(query.get("page_size", ["100"])[0])
        return items[:size]

    def fill_pages_served(self) -> int:
        return sum(1 for _, path, _ in self.requests if path.endswith("/activities/FILL"))

    # -- quotes --------------------------------------------------------------------------

    def latest_quotes(self, symbols: str) -> dict[str, Any]:
        quotes: dict[str, Any] = {}
        for symbol in symbols.split(","):
            if symbol in self.quotes:
                bid, ask = self.quotes[symbol]
                quotes[symbol] = {
                    "t": now_iso(),
                    "ax": "V",
                    "ap": float(ask),
                    "as": 3,
                    "bx": "V",
                    "bp": float(bid),
                    "bs": 2,
                    "c": ["R"],
                    "z": "C",
                }
        return {"quotes": quotes}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeAlpaca

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _authorized(self) -> bool:
        headers = dict(self.headers.items())
        self.fake.headers_seen.append(headers)
        return (
            self.headers.get("APCA-API-KEY-ID") == API_KEY
            and self.headers.get("APCA-API-SECRET-KEY") == SECRET_KEY
        )

    def do_POST(self) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        with self.fake.lock:
            self.fake.requests.append(("POST", url.path, {}))
            if not self._authorized():
                self._send(401, {"code": 40110000, "message": "request is not authorized"})
                return
            if url.path == "/v2/orders":
                status, payload = self.fake.create_order(body)
                if status == 200 and self.fake.lose_order_answers > 0:
                    self.fake.lose_order_answers -= 1
                    status, payload = 500, {"code": 50010000, "message": "internal server error"}
                self._send(status, payload)
                return
        self._send(404, {"code": 40410000, "message": "not found"})

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        with self.fake.lock:
            self.fake.requests.append(("GET", url.path, query))
            if not self._authorized():
                self._send(401, {"code": 40110000, "message": "request is not authorized"})
                return
            path = url.path
            if path == "/v2/account/activities/FILL":
                self._send(200, self.fake.fill_page(query))
            elif path == "/v2/orders:by_client_order_id":
                wanted = query.get("client_order_id", [""])[0]
                found = [o for o in self.fake.orders.values() if o["client_order_id"] == wanted]
                if found:
                    self._send(200, found[0])
                else:
                    self._send(404, {"code": 40410000, "message": "order not found"})
            elif path.startswith("/v2/orders/") and self.fake.fail_order_reads > 0:
                self.fake.fail_order_reads -= 1
                self._send(500, {"code": 50010000, "message": "internal server error"})
            elif path.startswith("/v2/orders/"):
                order_id = path.rsplit("/", 1)[-1]
                if order_id in self.fake.orders:
                    self._send(200, self.fake.advance(order_id))
                else:
                    self._send(404, {"code": 40410000, "message": "order not found"})
            elif path == "/v2/stocks/quotes/latest":
                self._send(200, self.fake.latest_quotes(query.get("symbols", [""])[0]))
            else:
                self._send(404, {"code": 40410000, "message": f"no route {path}"})

    def do_DELETE(self) -> None:
        url = urlparse(self.path)
        with self.fake.lock:
            self.fake.requests.append(("DELETE", url.path, {}))
            if not self._authorized():
                self._send(401, {"code": 40110000, "message": "request is not authorized"})
                return
            order = self.fake.orders.get(url.path.rsplit("/", 1)[-1])
            if not url.path.startswith("/v2/orders/") or order is None:
                self._send(404, {"code": 40410000, "message": "order not found"})
                return
            if order["status"] in ("filled", "canceled", "expired", "rejected"):
                self._send(422, {"code": 42210000, "message": "order is not cancelable"})
                return
            order["status"] = "canceled"
            order["canceled_at"] = order["updated_at"] = now_iso()
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()


class LoopbackAlpaca:
    """Serve a ``FakeAlpaca`` on 127.0.0.1 in a thread (a context manager)."""

    def __init__(self, fake: FakeAlpaca) -> None:
        handler = type("Handler", (_Handler,), {"fake": fake})
        self.fake = fake
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> LoopbackAlpaca:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
