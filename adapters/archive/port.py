"""The archive port the executor writes through; adapters (S3, local directory) implement it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

WriteStatus = Literal["written", "already_archived", "outboxed", "disabled"]


@dataclass(frozen=True)
class WriteOutcome:
    """What happened to one run's document. Archiving never raises into a trading run."""

    status: WriteStatus
    key: str
    location: str
    error: str | None = None


class RunArchive(Protocol):
    """Write-once store of closed ledgers, one JSON document per run."""

    def write(self, events: Sequence[Any]) -> WriteOutcome:
        """Archive a closed ledger from its ordered event stream."""
        ...
