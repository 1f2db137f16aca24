"""The archive interface both adapters share: write once, list, read, replay, verify, outbox.

An adapter supplies four storage primitives (``_put_new``, ``_get``, ``_iter_range``,
``url``); everything else, including never raising into a trading run, lives here once.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import orjson

from adapters.archive.document import (
    FORMAT_VERSION,
    MAX_DOCUMENT_BYTES,
    ArchivedRun,
    ArchiveError,
    ArchiveReadError,
    decode_run,
    encode_run,
)
from adapters.archive.errors import KeyExistsError, StoreRefusedError, StoreUnavailableError
from adapters.archive.files import UnreadableFileError, read_regular_file
from adapters.archive.inflight import InFlight
from adapters.archive.keys import RunRef, parse_key, run_key
from adapters.archive.limits import DEFAULT_LIMITS, DocumentLimits
from adapters.archive.object_lock import Retention
from adapters.archive.outbox import Outbox
from adapters.archive.port import WriteOutcome
from adapters.archive.runlog.pending import PendingAppends
from adapters.archive.runlog.records import LogEntry
from adapters.archive.runlog.store import RunLog
from adapters.archive.settings import normalise_prefix
from adapters.archive.signature import same_content, sign_document
from adapters.archive.verify import RunVerification, unreadable, verify_document
from adapters.signing import Signer, TrustedKeys
from ledger_domain import Ledger, LedgerError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


REFUSALS_BEFORE_STOP = 3
"""A push stops after this many refusals in a row with nothing accepted in between: the
store is then more likely refusing everything (credentials, bucket policy) than one
poisoned document."""


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

    signer: Signer | None = None
    """Signs each document written and the run log's checkpoints (``None``: documents are
    written unsigned and runs are not appended to the log)."""
    trusted_keys: TrustedKeys | None = None
    """The keys ``verify`` trusts (``None``: none, so no signed document is ``valid``)."""
    trusted_keys_path: Path | None = None
    """Where ``trusted_keys`` is read from on first ``verify`` when not given (settings)."""

    def __init__(
        self,
        *,
        prefix: str,
        enabled: bool = True,
        outbox: Outbox | None = None,
        limits: DocumentLimits = DEFAULT_LIMITS,
    ) -> None:
        self.prefix = normalise_prefix(prefix)  # ValueError for "../x", "a//b", ...
        self.enabled = enabled
        self.outbox = outbox
        self._in_flight = InFlight()
        self.run_log = RunLog(self)
        """The append-only log of archived runs (appended to only when there is a signer)."""
        self.pending_appends = (
            PendingAppends(outbox.directory / "log-pending") if outbox is not None else None
        )
        self._retry_lock = threading.Lock()
        self.limits = limits
        """What a stored document may hold (see ``adapters.archive.limits``)."""
        self.max_document_bytes = limits.max_bytes

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
            body, signing_error = self._signed(key, encoded.body)
            outcome = self.store(key, body)
        except Exception as error:  # store() does not raise; this is the last safety net
            log.exception("unexpected error archiving a ledger")
            return WriteOutcome("failed", "", self.location, error=f"not archived: {error!r}")
        outcome = replace(outcome, head_hash=encoded.head_hash)
        if signing_error is not None:
            message = f"{outcome.error}; {signing_error}" if outcome.error else signing_error
            outcome = replace(outcome, error=message)
        elif self.signer is not None and outcome.status in ("written", "outboxed"):
            outcome = replace(outcome, signed_by=self.signer.key_id)  # what was stored
        if outcome.status == "written":
            entry = LogEntry.of_document(key, body, encoded.head_hash, encoded.ledger_id)
            outcome = self._append_to_log(outcome, entry)
            if self.outbox is not None:
                self._push_quietly()
        return outcome

    def _signed(self, key: str, body: bytes) -> tuple[bytes, str | None]:
        """``body`` signed, or unsigned with the reason: signing never stops a write."""
        if self.signer is None:
            return body, None
        try:
            return sign_document(key, body, self.signer), None
        except Exception as error:  # SigningError, KMS down, ...: the document still goes
            log.warning("archive document %s written unsigned: %s", key, error)
            return body, f"written unsigned (signing failed: {error})"

    # -- the run log --------------------------------------------------------------------

    @property
    def logging_runs(self) -> bool:
        """True when written runs are appended to the run log (a signer is configured)."""
        return self.signer is not None

    def _append_to_log(self, outcome: WriteOutcome, entry: LogEntry) -> WriteOutcome:
        """Append a stored run's leaf; on failure keep it pending. Never raises."""
        if not self.logging_runs:
            return outcome
        if self.pending_appends is not None and self.pending_appends.count():
            self.retry_log_appends()  # older runs first, so the log keeps their order
        try:
            index = self.run_log.append(entry)
        except Exception as error:  # the document is safe; its append waits
            log.warning("run log append of %s failed, kept pending: %s", entry.key, error)
            self._keep_pending(entry)
            return outcome
        return replace(outcome, log_index=index)

    def _keep_pending(self, entry: LogEntry) -> None:
        if self.pending_appends is None:
            log.error("no outbox: the log append of %s is not kept (unlogged)", entry.key)
            return
        try:
            self.pending_appends.add(entry)
        except Exception:
            log.exception("the log append of %s could not be kept pending", entry.key)

    def retry_log_appends(self) -> int:
        """Append the pending leaves, oldest first; how many still wait (stops at a failure)."""
        pending = self.pending_appends
        if pending is None or not self.logging_runs:
            return 0 if pending is None else pending.count()
        with self._retry_lock:
            for path, entry in pending.entries():
                if entry is None:
                    continue  # not a leaf: left for a person
                try:
                    self.run_log.append(entry)
                except Exception as error:
                    log.warning("pending log append of %s failed again: %s", entry.key, error)
                    break
                pending.remove(path)
        return pending.count()

    def store(self, key: str, body: bytes) -> WriteOutcome:
        """Write ``body`` at ``key`` once; outbox it if the store is unreachable. Never raises."""
        with self._in_flight.sending(key, body):
            outcome = self._store(key, body)
            self._in_flight.finished(key, outcome)
        return outcome

    def settle(self, key: str, waited: float) -> WriteOutcome:
        """What became of ``key``'s document for a caller that stopped waiting for ``write``.

        Its outcome if it was stored (a write may still be pushing older documents);
        ``in_progress`` if it is still being sent, with a copy put in the outbox so the
        document lands there even if this process ends first; ``in_progress`` without a
        copy if the write had not reached the store yet. Never raises.
        """
        done = self._in_flight.outcome(key)
        if done is not None:
            return done
        body = self._in_flight.body(key)
        if body is None:
            message = f"still being prepared after {waited:g}s; it is written in the background"
            return WriteOutcome("in_progress", key, self._url_or_location(key), error=message)
        where, note = self._url_or_location(key), "no outbox copy (no outbox)"
        if self.outbox is not None:
            try:
                where, note = str(self.outbox.put(key, body)), "a copy waits in the outbox"
            except Exception as error:  # FileExistsError, OSError: the send goes on anyway
                note = f"no outbox copy ({error})"
        message = f"still being written after {waited:g}s; it completes in the background ({note})"
        return WriteOutcome("in_progress", key, where, error=message)

    def _store(self, key: str, body: bytes) -> WriteOutcome:
        try:
            outcome = self._send(key, body)
        except StoreUnavailableError as error:
            return self._to_outbox(key, body, str(error))
        except Exception as error:
            log.exception("unexpected error writing %s", key)
            return self._to_outbox(key, body, repr(error))
        if outcome.status == "conflict":
            outcome, _ = self._keep_conflict(outcome, body, with_archived=True)
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
            if same_content(existing, body):  # a retry, signed again or not at all
                return WriteOutcome("already_archived", key, self.url(key))
            message = f"a different document is already stored at {key}; not overwritten"
            return WriteOutcome("conflict", key, self.url(key), error=message)
        return WriteOutcome("written", key, self.url(key))

    def _keep_conflict(
        self, outcome: WriteOutcome, body: bytes, *, with_archived: bool = False
    ) -> tuple[WriteOutcome, bool]:
        """Keep a refused document in the outbox's ``conflicts`` (and, ``with_archived``,
        the archived document it met, for a person to compare); (outcome, kept?)."""
        if self.outbox is None:
            return outcome, False
        archived: bytes | None = None
        if with_archived:
            try:
                archived = self._get(outcome.key)
            except Exception:  # gone, unreadable, unreachable: the refused copy is kept anyway
                archived = None
        try:
            kept = self.outbox.keep_conflict(outcome.key, body, archived)
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
        """Send every waiting document, each on its own; idempotent (nothing lost, nothing
        duplicated).

        A document stored (or found identical) leaves the outbox; one whose key holds a
        different document moves to ``conflicts`` (with the archived one beside it). One
        the store refuses for good (``StoreRefusedError``) does not stop the others: once
        the store has taken another document in the same push it is moved to
        ``quarantine`` (status ``quarantined``, with the reason); if nothing was taken it
        stays pending (``outboxed``), since the store may be refusing everything, and the
        push stops after ``REFUSALS_BEFORE_STOP`` refusals in a row. A store that cannot be
        reached stops the push (no point hammering it). An entry that is not a run
        document of this archive (see ``_refusal``) is never sent: it stays in
        ``pending/`` and is reported ``failed``.
        """
        if self.outbox is None:
            return []
        outcomes: list[WriteOutcome] = []
        refused: list[tuple[int, str, Path, str]] = []
        accepted, in_a_row = False, 0
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
            except StoreRefusedError as error:
                refused.append((len(outcomes), key, path, str(error)))
                outcomes.append(_still_waiting(key, path, f"refused by the store: {error}"))
                in_a_row += 1
                if in_a_row >= REFUSALS_BEFORE_STOP and not accepted:
                    break
                continue
            except Exception as error:  # still unreachable: keep it, stop pushing
                outcomes.append(_still_waiting(key, path, f"store unavailable: {error}"))
                break
            accepted, in_a_row = True, 0
            if outcome.status == "conflict":
                outcome, kept = self._keep_conflict(outcome, body, with_archived=True)
                if not kept:
                    outcomes.append(outcome)
                    continue  # stays pending rather than lost
            self.outbox.remove(path)  # stored, found identical, or moved to conflicts
            if outcome.status == "written":
                outcome = self._append_to_log(outcome, _pushed_entry(key, body))
            outcomes.append(outcome)
        if accepted:
            for index, key, path, reason in refused:
                outcomes[index] = self._quarantine(key, path, reason)
        self.retry_log_appends()
        return outcomes

    def _quarantine(self, key: str, path: Path, reason: str) -> WriteOutcome:
        """Move a document the store refused for good out of the way of the others."""
        assert self.outbox is not None
        try:
            kept = self.outbox.quarantine(key, path, reason)
        except Exception as error:  # OSError: it stays pending, reported as still waiting
            return _still_waiting(key, path, f"refused by the store: {reason}; not moved: {error}")
        log.error("archive refused %s for good; quarantined at %s: %s", key, kept, reason)
        return WriteOutcome("quarantined", key, str(kept), error=f"refused by the store: {reason}")

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
        verdict = verify_document(key, body, self.limits)
        if verdict.status in ("invalid", "unreadable"):
            details = "; ".join(f"{f.check}: {f.message}" for f in verdict.failures[:3])
            return f"not a valid run document ({verdict.status}: {details})"
        if verdict.format_version == FORMAT_VERSION:
            try:
                ledger = decode_run(key, body, self.limits).ledger
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
            elif self.pending_appends is not None and self.logging_runs:
                self.retry_log_appends()
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
        return decode_run(key, self.read_bytes(key), self.limits)

    def retention(self, key: str) -> Retention | None:
        """The WORM lock on ``key``'s document (``None``: none; a local archive has none)."""
        return None

    def replay(self, key: str) -> Ledger:
        """One run's events folded back through the aggregate."""
        return self.read(key).replay()

    def verify(self, key: str) -> RunVerification:
        """One run's verdict; never raises for a bad or missing document."""
        return self.verify_with_digest(key)[0]

    def verify_with_digest(self, key: str) -> tuple[RunVerification, str | None]:
        """One run's verdict and the SHA-256 of the bytes judged (``None`` if unread)."""
        try:
            body = self.read_bytes(key)
        except ArchiveReadError as error:
            return unreadable(key, error.reason), None
        verdict = verify_document(key, body, self.limits, trusted=self.trust())
        return verdict, hashlib.sha256(body).hexdigest()

    def trust(self) -> TrustedKeys | None:
        """The trusted keys, read once from ``trusted_keys_path`` if not given.

        A missing file trusts no key; a malformed one raises ``TrustedKeysError`` (a
        configuration error, never a verdict on a document).
        """
        if self.trusted_keys is None and self.trusted_keys_path is not None:
            self.trusted_keys = TrustedKeys.load_if_present(self.trusted_keys_path)
        return self.trusted_keys

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
        except Exception as error:  # whatever a document holds, the others are still read
            log.warning("reading %r failed unexpectedly", key, exc_info=True)
            return RunRead(key, error=f"{key}: could not be read ({type(error).__name__})")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.location!r})"


def _still_waiting(key: str, path: Path, reason: str) -> WriteOutcome:
    return WriteOutcome("outboxed", key, str(path), error=reason)


def _pushed_entry(key: str, body: bytes) -> LogEntry:
    """The log entry of a document pushed from the outbox (it verified before the push)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        document = {}
    head = document.get("head_hash") if isinstance(document, dict) else None
    ledger = document.get("ledger_id") if isinstance(document, dict) else None
    head_hash = head if isinstance(head, str) else None
    return LogEntry.of_document(key, body, head_hash, ledger if isinstance(ledger, str) else "")


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
