"""The archive port the executor writes through; adapters (S3, local directory) implement it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

WriteStatus = Literal[
    "written",
    "already_archived",
    "outboxed",
    "disabled",
    "conflict",
    "failed",
    "quarantined",
    "in_progress",
]
"""What ``write`` did:

- ``written``: the document is now stored at ``key``.
- ``already_archived``: an identical document was already there (a retry); nothing changed.
- ``outboxed``: the store was unreachable; the document waits in the local outbox
  (``location``) for ``push_outbox``.
- ``disabled``: archiving is switched off (``TRADE_LEDGER__ENABLED=false``); nothing written.
- ``conflict``: a *different* document is stored at ``key``; it was not overwritten, and the
  new document was kept in the outbox's ``conflicts`` folder (``location``) for a person.
- ``quarantined`` (from ``push_outbox``): the store refused this document for good while
  taking others; it was moved to the outbox's ``quarantine`` folder (``location``) with
  the reason, out of the others' way, for a person.
- ``in_progress`` (from ``settle``, for a caller that stopped waiting): the document is
  still being written; it completes in the background, and a copy waits in the outbox
  (``location``) when it was already being sent.
- ``failed``: nothing could be kept (an open ledger, a malformed event stream, or neither
  the store nor the outbox writable); ``error`` says why.
"""

ARCHIVED_STATUSES: frozenset[str] = frozenset({"written", "already_archived"})


@dataclass(frozen=True)
class WriteOutcome:
    """What happened to one run's document. Archiving never raises into a trading run."""

    status: WriteStatus
    key: str
    location: str
    error: str | None = None
    head_hash: str | None = None
    log_index: int | None = None
    """The run's leaf in the run log; ``None`` when not logged (no signer, or pending)."""
    signed_by: str | None = None
    """The key id that signed the document (``None``: written unsigned; ``error`` says why)."""

    @property
    def archived(self) -> bool:
        """True when the document is in the archive (written now or before)."""
        return self.status in ARCHIVED_STATUSES


class RunArchive(Protocol):
    """Write-once store of closed ledgers, one JSON document per run."""

    def write(self, events: Sequence[Any]) -> WriteOutcome:
        """Archive a closed ledger from its ordered event stream."""
        ...
