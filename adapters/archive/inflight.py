"""Documents being stored right now, so a caller that stops waiting can say where each is.

The executor waits at most ``archive_timeout`` for a write. When it stops waiting, the
archive tells it what became of the run's document: stored (its outcome, even while the
write call is still pushing older documents), or still being sent (then a copy goes to
the outbox, so the document lands there even if the process ends before the send does).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from adapters.archive.port import WriteOutcome

REMEMBERED = 256
"""Outcomes kept for late askers (the latest ones; older ones are forgotten)."""


class InFlight:
    """Thread-safe registry of documents being sent and outcomes of the latest sends."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sending: dict[str, bytes] = {}
        self._finished: OrderedDict[str, WriteOutcome] = OrderedDict()

    @contextmanager
    def sending(self, key: str, body: bytes) -> Iterator[None]:
        with self._lock:
            self._sending[key] = body
        try:
            yield
        finally:
            with self._lock:
                self._sending.pop(key, None)

    def finished(self, key: str, outcome: WriteOutcome) -> None:
        with self._lock:
            self._finished[key] = outcome
            self._finished.move_to_end(key)
            while len(self._finished) > REMEMBERED:
                self._finished.popitem(last=False)

    def outcome(self, key: str) -> WriteOutcome | None:
        with self._lock:
            return self._finished.get(key)

    def body(self, key: str) -> bytes | None:
        with self._lock:
            return self._sending.get(key)
