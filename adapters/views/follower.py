"""Follow the ledger's PostgreSQL store and keep the live views, with eventsourcing's own
projection machinery.

``ProjectionRunner`` subscribes to the ``LedgerApplication`` (a PostgreSQL LISTEN/NOTIFY
subscription over its notification log, starting after the views' tracking position) and
feeds each event to ``LiveViews.process_event`` on its own thread. A fill's view rows and
the new position are committed in one transaction (``LiveViewsRecorder.apply_fill``), so a
follower killed at any moment and started again resumes exactly after the last event it
committed: nothing counted twice, nothing missed. Each fill's contribution comes from the
projections' own arithmetic (``projections.core.shares_of`` in the ``wide`` context), so
the live views equal what ``BySymbol``/``ByStrategy``/``Totals`` compute from the runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from eventsourcing.persistence import InfrastructureFactory, InternalError, Tracking
from eventsourcing.projection import Projection, ProjectionRunner
from eventsourcing.utils import Environment

from adapters.views.recorder import FillFacts, LiveViewsRecorder, LiveViewsSnapshot
from ledger_domain import Ledger
from ledger_domain.application import LedgerApplication
from projections.arithmetic import wide
from projections.core import shares_of

VIEWS_NAME = "live_views"
"""The projection's name: its tables are ``live_views_tracking``, ``live_views_by_symbol``..."""

POSTGRES_MODULE = "eventsourcing.postgres"

Until = Literal["interrupted", "caught_up", "idle"]

T = TypeVar("T")

SETUP_ATTEMPTS = 5
"""eventsourcing creates its tables and functions on start (``CREATE ... IF NOT EXISTS``,
``CREATE OR REPLACE FUNCTION``); PostgreSQL refuses one of two processes doing so at the
same moment ("tuple concurrently updated"). Starting again then finds them made."""


class ViewsConfigError(ValueError):
    """The settings do not name a PostgreSQL ledger store."""


class LiveViews(Projection[LiveViewsRecorder]):
    """Fills go into the views; every other event only moves the position."""

    name = VIEWS_NAME

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        if isinstance(domain_event, Ledger.FillRecorded):
            self.view.apply_fill(fill_facts(domain_event), tracking)
        else:
            self.view.skip(tracking)


def fill_facts(fill: Ledger.FillRecorded) -> FillFacts:
    """One fill's contribution, exactly as the projections fold it."""
    with wide():
        value = fill.quantity * fill.price
        shares = shares_of(fill, value)
    return FillFacts(
        ledger_id=fill.originator_id,
        order_id=fill.order_id,
        symbol=fill.symbol,
        side=fill.side,
        quantity=fill.quantity,
        value=value,
        shares=shares,
    )


def check_env(env: Mapping[str, str]) -> dict[str, str]:
    """The eventsourcing settings, if they name the PostgreSQL store; else ``ViewsConfigError``."""
    settings = dict(env)
    module = settings.get("PERSISTENCE_MODULE", "")
    if module != POSTGRES_MODULE:
        raise ViewsConfigError(
            f"live views need the PostgreSQL ledger store: PERSISTENCE_MODULE is "
            f"{module or 'not set'!s}, not {POSTGRES_MODULE} (set it and POSTGRES_DBNAME, "
            "POSTGRES_HOST, POSTGRES_USER, ... as the recording processes do)"
        )
    return settings


def open_views(env: Mapping[str, str]) -> LiveViewsRecorder:
    """The views' recorder (tables created if missing), for reading them."""
    settings = Environment(VIEWS_NAME, check_env(env))

    def construct() -> LiveViewsRecorder:
        factory = InfrastructureFactory[LiveViewsRecorder].construct(env=settings)
        return factory.tracking_recorder(LiveViewsRecorder)

    return _set_up(construct)


def _set_up(construct: Callable[[], T]) -> T:
    """``construct()``, again if a concurrent start collided creating the same tables."""
    for attempt in range(1, SETUP_ATTEMPTS + 1):
        try:
            return construct()
        except InternalError:
            if attempt == SETUP_ATTEMPTS:
                raise
            time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")


def read_views(env: Mapping[str, str]) -> LiveViewsSnapshot:
    recorder = open_views(env)
    try:
        return recorder.read(LedgerApplication.name)
    finally:
        recorder.datastore.close()


def follow_views(
    env: Mapping[str, str],
    *,
    until: Until = "interrupted",
    idle_seconds: float = 2.0,
    stop: threading.Event | None = None,
    progress: Callable[[int | None, int | None], None] | None = None,
) -> int | None:
    """Keep the views until ``stop`` is set (``interrupted``), until they have caught up
    with the log as it was when following started (``caught_up``), or until they have
    caught up and nothing new was recorded for ``idle_seconds`` (``idle``). Returns the
    position reached. Errors of the processing thread are raised here."""
    stop = stop if stop is not None else threading.Event()
    settings = check_env(env)
    runner: ProjectionRunner[LedgerApplication, LiveViewsRecorder] = _set_up(
        lambda: ProjectionRunner(
            application_class=LedgerApplication,
            projection_class=LiveViews,
            view_class=LiveViewsRecorder,
            env=settings,
        )
    )
    with runner:
        recorder = runner.app.recorder
        target = recorder.max_notification_id()
        quiet_since = time.monotonic()
        while not stop.is_set():
            runner.run_forever(timeout=0.2)  # raises the processing thread's error
            position = runner.view.max_tracking_id(runner.app_name)
            if progress is not None:
                progress(position, target)
            caught_up = target is None or (position is not None and position >= target)
            if not caught_up:
                quiet_since = time.monotonic()
                continue
            if until == "caught_up":
                break
            latest = recorder.max_notification_id()
            if latest != target:
                target, quiet_since = latest, time.monotonic()
            elif until == "idle" and time.monotonic() - quiet_since >= idle_seconds:
                break
        reached: int | None = runner.view.max_tracking_id(runner.app_name)
        return reached
