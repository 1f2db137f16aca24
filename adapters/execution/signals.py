"""SIGTERM and SIGINT (Ctrl-C) during a run: stop it cleanly instead of dying mid-run.

While a run is in progress, each of the two signals calls ``stop(reason)`` (the executor
then places no new order, cancels what is still open, records what was filled, closes and
archives the run). The previous handlers come back when the last run ends. Only the main
thread's event loop can take signals; elsewhere nothing is installed (and a hard kill, or a
run on another thread, is what ``trade-ledger recover`` is for).
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class SignalStop:
    """Installs the stop handlers for as long as at least one run holds them."""

    def __init__(self, stop: Callable[[str], None]) -> None:
        self._stop = stop
        self._holders = 0
        self._previous: dict[signal.Signals, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def acquire(self) -> None:
        self._holders += 1
        if self._holders > 1 or threading.current_thread() is not threading.main_thread():
            return
        loop = asyncio.get_running_loop()
        for number in STOP_SIGNALS:
            try:
                previous = signal.getsignal(number)
                loop.add_signal_handler(number, self._received, number)
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # no signals on this loop (e.g. Windows): nothing to undo
            self._previous[number] = previous
        self._loop = loop

    def release(self) -> None:
        self._holders -= 1
        if self._holders > 0 or self._loop is None:
            return
        for number, previous in self._previous.items():
            self._loop.remove_signal_handler(number)
            if previous is not None:
                signal.signal(number, previous)
        self._previous.clear()
        self._loop = None

    def _received(self, number: signal.Signals) -> None:
        name = signal.Signals(number).name
        logger.warning("%s received: stopping the run (no new orders; closing and archiving)", name)
        self._stop(f"stopped by {name}")
