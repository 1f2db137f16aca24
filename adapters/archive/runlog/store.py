"""The run log in the archive: append a leaf and a checkpoint, read them back.

Layout, under the archive's prefix (never listed as runs: ``log`` is not a year)::

    {prefix}/log/leaves/{index:012d}.json         one per archived run, index from 0
    {prefix}/log/checkpoints/{size:012d}.json     one per append, size from 1

Both are written once through the archive's conditional write (S3 ``IfNoneMatch="*"``,
the local directory's exclusive create), which is what serialises several writers
without a lock service: whoever stores leaf ``n`` first owns it; the others get "exists",
read it, make sure checkpoint ``n + 1`` is there (writing it themselves if its owner has
not yet: any writer can, the content is fixed but for time and signature) and try
``n + 1``. Every checkpoint read on the way must fold from the previous one: a log whose
checkpoints do not follow from its leaves is refused, not extended.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from adapters.archive.document import ArchiveError, ArchiveReadError
from adapters.archive.errors import KeyExistsError
from adapters.archive.runlog.merkle import ProofError, extend_frontier, root_from_frontier
from adapters.archive.runlog.records import (
    Checkpoint,
    LogEntry,
    LogRecordError,
    decode_checkpoint,
    decode_entry,
    signed_checkpoint,
)
from adapters.signing.port import Signer

if TYPE_CHECKING:
    from adapters.archive.base import Archive

MAX_STEPS = 10_000
"""An append gives up after helping this many other appends (then it waits as pending)."""


class LogError(ArchiveError):
    """The log cannot be appended to or read as it should be (the message says why)."""


class RunLog:
    """The append-only log of one archive (reading needs no signer; appending does)."""

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self._known: Checkpoint | None = None
        self._lock = threading.Lock()
        self.on_step: Callable[[str], None] | None = None
        """Called with a short label at each store request (for tests and benchmarks)."""

    # -- keys -----------------------------------------------------------------------------

    @property
    def folder(self) -> str:
        prefix = self.archive.prefix
        return f"{prefix}/log" if prefix else "log"

    def leaf_key(self, index: int) -> str:
        return f"{self.folder}/leaves/{index:012d}.json"

    def checkpoint_key(self, size: int) -> str:
        return f"{self.folder}/checkpoints/{size:012d}.json"

    # -- reading --------------------------------------------------------------------------

    def read_entry(self, index: int) -> LogEntry:
        """Leaf ``index``; ``ArchiveReadError`` if absent, ``LogRecordError`` if malformed."""
        return decode_entry(self._get(self.leaf_key(index)))

    def read_checkpoint(self, size: int) -> Checkpoint:
        """The checkpoint of ``size``; ``ArchiveReadError`` / ``LogRecordError``."""
        checkpoint = decode_checkpoint(self._get(self.checkpoint_key(size)))
        if checkpoint.size != size:
            raise LogRecordError(f"{self.checkpoint_key(size)} states size {checkpoint.size}")
        return checkpoint

    def latest(self, *, from_cache: bool = True) -> Checkpoint | None:
        """The newest checkpoint, or ``None`` for an empty log.

        Found by probing sizes (doubling, then halving): about ``2 log2(n)`` small reads
        from nothing, one read past the last checkpoint this object wrote or read when
        ``from_cache`` (appending); a verifier passes ``False`` to read everything afresh.
        """
        known = self._known if from_cache else None
        low, low_checkpoint = (known.size, known) if known is not None else (0, None)
        step = 1
        while True:
            found = self._probe(low + step)
            if found is None:
                high = low + step
                break
            low, low_checkpoint = low + step, found
            step *= 2
        while high - low > 1:
            middle = (low + high) // 2
            found = self._probe(middle)
            if found is None:
                high = middle
            else:
                low, low_checkpoint = middle, found
        return low_checkpoint

    def _probe(self, size: int) -> Checkpoint | None:
        try:
            return self.read_checkpoint(size)
        except ArchiveReadError as error:
            if "no such" in error.reason:
                return None
            raise

    def _get(self, key: str) -> bytes:
        if self.on_step is not None:
            self.on_step("get")
        return self.archive._get(key)

    def _put(self, key: str, body: bytes) -> None:
        if self.on_step is not None:
            self.on_step("put")
        self.archive._put_new(key, body)

    # -- appending ------------------------------------------------------------------------

    def append(self, entry: LogEntry) -> int:
        """Append ``entry``; its leaf index.

        Raises ``LogError`` (no signer, a log that does not add up, too much contention),
        ``StoreUnavailableError`` or ``ArchiveReadError``; the caller keeps the entry
        pending.
        """
        signer = self.archive.signer
        if signer is None:
            raise LogError("no signer configured: the run log cannot be appended to")
        with self._lock:
            # A checkpoint this object wrote or read is where to try first: if others have
            # appended since, the leaf's "exists" says so and the loop catches up.
            state = self._known if self._known is not None else self.latest()
            for _ in range(MAX_STEPS):
                size = state.size if state is not None else 0
                frontier = [bytes.fromhex(value) for value in state.frontier] if state else []
                try:
                    self._put(self.leaf_key(size), entry.encode())
                    mine = True
                    leaf = entry
                except KeyExistsError:
                    leaf = self._entry_or_error(size)
                    mine = leaf == entry  # our own write, answered "exists" on a retry
                try:
                    grown = extend_frontier(frontier, size, leaf.leaf_hash)
                except ProofError as error:
                    raise LogError(f"checkpoint {size} does not fit its size: {error}") from None
                state = self._settle(signer, size + 1, grown, state, written_leaf=mine)
                if mine:
                    return size
            raise LogError(f"gave up after helping {MAX_STEPS} concurrent appends")

    def _entry_or_error(self, index: int) -> LogEntry:
        try:
            return self.read_entry(index)
        except LogRecordError as error:
            raise LogError(f"{self.leaf_key(index)} is not a log leaf: {error}") from error

    def _settle(
        self,
        signer: Signer,
        size: int,
        frontier: list[bytes],
        previous: Checkpoint | None,
        *,
        written_leaf: bool,
    ) -> Checkpoint:
        """Checkpoint ``size``, written now or read; it must follow from ``previous``."""
        stored = None if written_leaf else self._existing_checkpoint(size)
        if stored is None:
            checkpoint = signed_checkpoint(signer, size, frontier, previous)
            try:
                self._put(self.checkpoint_key(size), checkpoint.encode())
                self._known = checkpoint
                return checkpoint
            except KeyExistsError:
                stored = self._existing_checkpoint(size)
                if stored is None:
                    raise LogError(f"{self.checkpoint_key(size)} exists but is gone") from None
        root = root_from_frontier(frontier).hex()
        if stored.root != root:
            raise LogError(
                f"{self.checkpoint_key(size)} states root {stored.root}, "
                f"the log's leaves give {root}"
            )
        expected_previous = previous.digest if previous is not None else None
        if stored.previous != expected_previous:
            raise LogError(
                f"{self.checkpoint_key(size)} does not follow checkpoint {size - 1} "
                "(its previous hash differs)"
            )
        self._known = stored
        return stored

    def _existing_checkpoint(self, size: int) -> Checkpoint | None:
        try:
            return self._probe(size)
        except LogRecordError as error:
            raise LogError(f"{self.checkpoint_key(size)} is not a checkpoint: {error}") from error
