"""WORM storage: S3 Object Lock retention on every object the archive writes.

With ``TRADE_LEDGER__OBJECT_LOCK__MODE=COMPLIANCE`` (or ``GOVERNANCE``) and either
``TRADE_LEDGER__OBJECT_LOCK__RETENTION_DAYS=2555`` or ``..._RETAIN_UNTIL=2033-12-31T00:00:00Z``,
each PUT (run documents, run-log leaves, checkpoints) carries ``ObjectLockMode`` and
``ObjectLockRetainUntilDate``: S3 then refuses to delete or overwrite that version until the
date (COMPLIANCE: nobody, not even the account root; GOVERNANCE: only with
``s3:BypassGovernanceRetention``). The bucket must have been created with Object Lock
enabled (``ObjectLockEnabledForBucket``); a bucket without it refuses the PUT, and the
document goes to the outbox, named. The local archive has no such lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, Field, model_validator

LockMode = Literal["COMPLIANCE", "GOVERNANCE"]


class ObjectLockSettings(BaseModel):
    """Retention applied to every object written (off unless ``mode`` is set)."""

    mode: LockMode | None = None
    retention_days: int | None = Field(default=None, ge=1, le=36500)
    retain_until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _one_period(self) -> Self:
        if self.mode is None:
            if self.retention_days is not None or self.retain_until is not None:
                raise ValueError("object_lock.mode (COMPLIANCE or GOVERNANCE) is needed")
            return self
        if (self.retention_days is None) == (self.retain_until is None):
            raise ValueError("object_lock needs exactly one of retention_days and retain_until")
        return self

    @property
    def enabled(self) -> bool:
        return self.mode is not None

    def retain_until_for(self, now: datetime) -> datetime:
        """When a version written at ``now`` may be deleted again."""
        if self.retain_until is not None:
            return self.retain_until.astimezone(UTC)
        assert self.retention_days is not None
        return now.astimezone(UTC) + timedelta(days=self.retention_days)

    def put_args(self, now: datetime | None = None) -> dict[str, Any]:
        """The ``put_object`` arguments that lock the version written (none when off)."""
        if self.mode is None:
            return {}
        moment = now if now is not None else datetime.now(UTC)
        return {
            "ObjectLockMode": self.mode,
            "ObjectLockRetainUntilDate": self.retain_until_for(moment),
        }


@dataclass(frozen=True)
class Retention:
    """An object's lock, as S3 reports it."""

    mode: str
    retain_until: datetime
    legal_hold: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "retain_until": self.retain_until.astimezone(UTC).isoformat(),
            "legal_hold": self.legal_hold,
        }

    def __str__(self) -> str:
        hold = ", legal hold" if self.legal_hold else ""
        return f"{self.mode} until {self.retain_until.astimezone(UTC).isoformat()}{hold}"
