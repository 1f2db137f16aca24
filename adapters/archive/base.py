"""The archive interface both adapters share: write once, list, read, replay, verify, outbox.

An adapter supplies four storage primitives (``_put_new``, ``_get``, ``_iter_range``,
``url``); everything else, including never raising into a trading run, lives here once.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from adapters.archive.document import (
    FORMAT_VERSION,
    MAX_DOCUMENT_BYTES,
    ArchivedRun,
    ArchiveError,
    ArchiveReadError,
    decode_run,
    encode_run,
)
from adapters.archive.files import UnreadableFileError, read_regular_file
from adapters.archive.keys import RunRef, parse_key, run_key
from adapters.archive.outbox import Outbox
from adapters.archive.port import WriteOutcome
from adapters.archive.settings import normalise_prefix
from adapters.archive.verify import RunVerification, unreadable, verify_document
from ledger_domain import Ledger, LedgerError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


class KeyExistsError(ArchiveError):
    """The write-once store already holds an object at this key."""


class StoreUnavailableError(ArchiveError):
    """The store could not be reached or refused the request (worth retrying later)."""


@dataclass(frozen=True)
class RunRead:
    """One run of a listing, read: ``run`` or, for a document that cannot be read, ``error``."""

    key: str
    run: ArchivedRun | None = None
    error: str | None = None


@dataclass(frozen=True)
class RunPage:
    """One page of a listing; pass ``next_start_after`` back for the next page."""

    runs: list[RunRef]
    next_start_after: str | None


class Archive(ABC):
    """Write-once archive of closed ledgers, one JSON document per run, keyed by date."""

    max_document_bytes: int = MAX_DOCUMENT_BYTES
    """Documents larger than this are neither read (``unreadable``) nor pushed."""

    def __init__(self, *, prefix: str, enabled: bool = True, outbox: Outbox | None = None) -> None:
        self.prefix = normalise_prefix(prefix)  # ValueError for "../x", "a//b", ...
        self.enabled = enabled
        self.outbox = outbox

    # -- storage primitives (adapters) -------------------------------------------------

    @property
    @abstractmethod
    def location(self) -> str:
        """Where this archive is (``s3://bucket/prefix`` or a directory)."""

    @abstractmethod
    def url(self, key: str) -> str:
        """Where one key's document is."""

    @abstractmethod
    def _put_new(self, key: str, body: bytes) -> None:
        """Store ``body`` at ``key`` only if nothing is there.

        Raises ``KeyExistsError`` if something is, ``StoreUnavailableError`` if the store
        cannot be reached.
        """

    @abstractmethod
    def _get(self, key: str) -> bytes:
        """The bytes at ``key``: ``ArchiveReadError`` if absent, ``StoreUnavailableError``."""

    @abstractmethod
    def _iter_range(self, first: date, last: date, start_after: str | None) -> Iterator[RunRef]:
        """Runs of ``first``..``last`` (inclusive) in key order, after ``start_after``."""

    # -- writing ----------------------------------------------------------------------

    def key_for(self, events: Sequence[Any]) -> str:
        """The key a closed ledger's document is written to."""
        encoded = encode_run(events)
        return run_key(self.prefix, encoded.ledger_id, encoded.correlation_id, encoded.created_at)

    def write(self, events: Sequence[Any]) -> WriteOutcome:
        """Archive a closed ledger once. Never raises: the outcome says what happened."""
        if not self.enabled:
            return WriteOutcome("disabled", "", self.location)
        try:
            encoded = encode_run(events)
        except (LedgerError, ArchiveError, ValueError, TypeError) as error:
            return WriteOutcome("failed", "", self.location, error=f"not archived: {error}")
        except Exception as error:  # the archive must never break a trading run
            log.exception("unexpected error encoding a ledger for the archive")
            return WriteOutcome("failed", "", self.location, error=f"not archived: {error!r}")
        try:
            key = run_key(
                self.prefix, encoded.ledger_id, encoded.correlation_id, encoded.created_at
            )
            outcome = self.store(key, encoded.body)
        except Exception as error:  # store() does not raise; this is the last safety net
            log.exception("unexpected error archiving a ledger")
            return WriteOutcome("failed", "", self.location, error=f"not archived: {error!r}")
        outcome = replace(outcome, head_hash=encoded.head_hash)
        if outcome.status == "written" and self.outbox is not None:
            self._push_quietly()
        return outcome

    def store(self, key: str, body: bytes) -> WriteOutcome:
        """Write ``body`` at ``key`` once; outbox it if the store is unreachable. Never raises."""
        try:
            outcome = self._send(key, body)
        except StoreUnavailableError as error:
            return self._to_outbox(key, body, str(error))
        except Exception as error:
            log.exception("unexpected error writing %s", key)
            return self._to_outbox(key, body, repr(error))
        if outcome.status == "conflict":
            outcome, _ = self._keep_conflict(outcome, body)
        return outcome

    def _send(self, key: str, body: bytes) -> WriteOutcome:
        """One conditional write and what an existing key means; ``StoreUnavailableError``."""
        try:
            self._put_new(key, body)
        except KeyExistsError:
            try:
                existing = self._get(key)
            except ArchiveReadError as error:  # gone again between the PUT and the GET
                message = f"{key} exists but could not be read: {error}"
                return WriteOutcome("conflict", key, self.url(key), error=message)
            if existing == body:
                return WriteOutcome("already_archived", key, self.url(key))
            message = f"a different document is already stored at {key}; not overwritten"
            return WriteOutcome("conflict", key, self.url(key), error=message)
        return WriteOutcome("written", key, self.url(key))

    def _keep_conflict(self, outcome: WriteOutcome, body: bytes) -> tuple[WriteOutcome, bool]:
        """Keep a refused document in the outbox's ``conflicts``; (outcome, kept?)."""
        if self.outbox is None:
            return outcome, False
        try:
            kept = self.outbox.keep_conflict(outcome.key, body)
        except Exception as error:  # OSError, an unsafe key, ...: never raised into a run
            return replace(outcome, error=f"{outcome.error}; not kept: {error}"), False
        return replace(outcome, location=str(kept), error=f"{outcome.error}; kept at {kept}"), True

    def _to_outbox(self, key: str, body: bytes, reason: str) -> WriteOutcome:
        """Keep ``body`` in the outbox; every error ends in an outcome, never an exception."""
        url = self._url_or_location(key)
        if self.outbox is None:
            return WriteOutcome("failed", key, url, error=f"store unavailable: {reason}")
        try:
            path = self.outbox.put(key, body)
        except FileExistsError as error:
            message = f"store unavailable ({reason}) and {error}"
            conflict = WriteOutcome("conflict", key, url, error=message)
            return self._keep_conflict(conflict, body)[0]
        except Exception as error:  # OSError, an unsafe key, ...
            return WriteOutcome(
                "failed",
                key,
                url,
                error=f"store unavailable ({reason}) and outbox not writable: {error}",
            )
        log.warning("archive unavailable, %s kept in outbox %s: %s", key, path, reason)
        return WriteOutcome("outboxed", key, str(path), error=f"store unavailable: {reason}")

    def _url_or_location(self, key: str) -> str:
        """``url(key)``, or the archive's location when the key has none (an unsafe key)."""
        try:
            return self.url(key)
        except Exception:
            return self.location

    # -- the outbox ---------------------------------------------------------------------

    def push_outbox(self) -> list[WriteOutcome]:
        """Send every waiting document; idempotent (nothing lost, nothing duplicated).

        A document stored (or found identical) leaves the outbox; one whose key holds a
        different document moves to ``conflicts``; one the store still refuses stays, and
        the push stops there (the store is down: no point hammering it). An entry that is
        not a run document of this archive (see ``_refusal``) is never sent: it stays in
        ``pending/`` and is reported ``failed``, and the push goes on with the others.
        """
        if self.outbox is None:
            return []
        outcomes: list[WriteOutcome] = []
        for key, path in self.outbox.pending():
            try:
                body = read_regular_file(path, self.max_document_bytes)
            except FileNotFoundError:
                continue  # another pusher took it
            except (UnreadableFileError, OSError) as error:
                outcomes.append(_refused(key, path, str(error)))
                continue
            problem = self._refusal(key, body)
            if problem is not None:
                outcomes.append(_refused(key, path, problem))
                continue
            try:
                outcome = self._send(key, body)
            except Exception as error:  # still unreachable: keep it, stop pushing
                outcomes.append(
                    WriteOutcome("outboxed", key, str(path), error=f"store unavailable: {error}")
                )
                break
            if outcome.status == "conflict":
                outcome, kept = self._keep_conflict(outcome, body)
                if not kept:
                    outcomes.append(outcome)
                    continue  # stays pending rather than lost
            self.outbox.remove(path)  # stored, found identical, or moved to conflicts
            outcomes.append(outcome)
        return outcomes

    def _refusal(self, key: str, body: bytes) -> str | None:
        """Why an outbox entry must not be sent, or ``None`` if it may be.

        Writes are once and for ever, so only what ``write`` itself would have stored goes:
        a key of this archive's layout under its prefix, and a document that verifies
        (``unverifiable``, a snapshot of the original format, may go; ``invalid`` and
        ``unreadable`` may not). A current-format document must sit at its own key.
        """
        if parse_key(self.prefix, key) is None:
            where = f"prefix {self.prefix!r}" if self.prefix else "the archive root"
            return f"not a run key of the archive's layout under {where}"
        verdict = verify_document(key, body)
        if verdict.status in ("invalid", "unreadable"):
            details = "; ".join(f"{f.check}: {f.message}" for f in verdict.failures[:3])
            return f"not a valid run document ({verdict.status}: {details})"
        if verdict.format_version == FORMAT_VERSION:
            try:
                ledger = decode_run(key, body).ledger
                own_key = run_key(
                    self.prefix, ledger.ledger_id, ledger.correlation_id, ledger.created_at
                )
            except (ArchiveError, ValueError, TypeError) as error:
                return f"not a readable run document: {error}"
            if own_key != key:
                return f"the document belongs at {own_key}, not at this key"
        return None

    def _push_quietly(self) -> None:
        try:
            if self.outbox is not None and self.outbox.count():
                self.push_outbox()
        except Exception:
            log.exception("pushing the archive outbox failed; documents stay in the outbox")

    # -- listing ------------------------------------------------------------------------

    def list_runs(self, first: date, last: date | None = None) -> Iterator[RunRef]:
        """Every run of a day, or of ``first``..``last`` inclusive, in key order (lazy)."""
        end = first if last is None else last
        if end < first:
            raise ValueError(f"date range ends ({end}) before it starts ({first})")
        return self._iter_range(first, end, None)

    def list_page(
        self,
        first: date,
        last: date | None = None,
        *,
        start_after: str | None = None,
        limit: int = 1000,
    ) -> RunPage:
        """At most ``limit`` runs after ``start_after``: a page of ``list_runs``."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        end = first if last is None else last
        runs: list[RunRef] = []
        for ref in self._iter_range(first, end, start_after):
            if len(runs) == limit:
                return RunPage(runs, runs[-1].key)
            runs.append(ref)
        return RunPage(runs, None)

    # -- reading ------------------------------------------------------------------------

    def read_bytes(self, key: str) -> bytes:
        """The stored bytes of one run (``ArchiveReadError`` naming the key if absent)."""
        try:
            return self._get(key)
        except StoreUnavailableError as error:
            raise ArchiveReadError(key, f"store unavailable: {error}") from error

    def read(self, key: str) -> ArchivedRun:
        """One run as typed objects; ``ArchiveReadError`` naming the key if unreadable."""
        return decode_run(key, self.read_bytes(key))

    def replay(self, key: str) -> Ledger:
        """One run's events folded back through the aggregate."""
        return self.read(key).replay()

    def verify(self, key: str) -> RunVerification:
        """One run's verdict; never raises for a bad or missing document."""
        try:
            body = self.read_bytes(key)
        except ArchiveReadError as error:
            return unreadable(key, error.reason)
        return verify_document(key, body)

    def read_runs(
        self, first: date, last: date | None = None, *, workers: int = 1
    ) -> Iterator[RunRead]:
        """Every run of a date (or range), read; an unreadable one names its error."""
        keys = [ref.key for ref in self.list_runs(first, last)]
        return self.read_keys(keys, workers=workers)

    def read_keys(self, keys: Iterable[str], *, workers: int = 1) -> Iterator[RunRead]:
        return _map(self._read_one, keys, workers)

    def verify_runs(
        self, first: date, last: date | None = None, *, workers: int = 1
    ) -> Iterator[RunVerification]:
        """Every run of a date (or range) verified; one bad run does not stop the rest."""
        keys = [ref.key for ref in self.list_runs(first, last)]
        return self.verify_keys(keys, workers=workers)

    def verify_keys(self, keys: Iterable[str], *, workers: int = 1) -> Iterator[RunVerification]:
        return _map(self.verify, keys, workers)

    def _read_one(self, key: str) -> RunRead:
        try:
            return RunRead(key, run=self.read(key))
        except ArchiveReadError as error:
            return RunRead(key, error=str(error))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"


def _refused(key: str, path: Path, reason: str) -> WriteOutcome:
    """The outcome of an outbox entry that is not sent; it stays where it is."""
    message = f"refused, not pushed (left in the outbox for a person): {reason}"
    return WriteOutcome("failed", key, str(path), error=message)


def _map(function: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``map`` in order, on ``workers`` threads when more than one."""
    if workers <= 1:
        return map(function, items)
    return _threaded(function, list(items), workers)


def _threaded(function: Callable[[T], R], items: list[T], workers: int) -> Iterator[R]:
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="archive") as pool:
        yield from pool.map(function, items)
