"""Typed errors of the ledger: each names what was wrong so callers can act on it."""

from __future__ import annotations


class LedgerError(Exception):
    """Base of every error the ledger raises on purpose."""


class InvalidFillError(LedgerError, ValueError):
    """A successful fill carried data the ledger refuses; nothing was recorded."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"invalid fill: {field}: {reason}")


class ExecutionConflictError(LedgerError):
    """An execution id already recorded arrived again with different fill data."""

    def __init__(self, execution_id: str, reason: str) -> None:
        self.execution_id = execution_id
        self.reason = reason
        super().__init__(f"execution {execution_id!r} conflicts with the recorded fill: {reason}")


class RunConflictError(LedgerError):
    """The run already holds different data under this key (its plan, a client order id)."""

    def __init__(self, subject: str, reason: str) -> None:
        self.subject = subject
        self.reason = reason
        super().__init__(f"{subject} conflicts with the run's record: {reason}")


class LedgerClosedError(LedgerError):
    """The run's ledger is closed; its history is final."""

    def __init__(self, ledger_id: str) -> None:
        self.ledger_id = ledger_id
        super().__init__(f"ledger {ledger_id} is closed; nothing can be recorded after close")


class InvalidEventStreamError(LedgerError, ValueError):
    """An event stream given for replay is not a well-formed ledger history."""
