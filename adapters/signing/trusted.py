"""Trusted keys: the public keys a verifier accepts, each for a period (keys rotate).

The file (JSON)::

    {"keys": [{"key_id": "3f1c...", "algorithm": "ed25519",
               "public_key": "-----BEGIN PUBLIC KEY-----\\n...",
               "valid_from": "2026-01-01T00:00:00Z", "valid_to": null}]}

``key_id`` must be the fingerprint of ``public_key`` and ``algorithm`` its kind, so an
entry cannot name one key and hold another. A signature is ``valid`` only from a listed
key, by its algorithm, made (``signed_at``) within one of that key's periods.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError, model_validator

from adapters.signing.port import Signer
from adapters.signing.public import (
    PublicKey,
    PublicKeyError,
    algorithm_of,
    key_id_of,
    load_public_key,
    signature_holds,
)

MAX_TRUSTED_FILE_BYTES = 1024 * 1024
SignatureStatus = Literal["valid", "untrusted_key", "bad_signature", "outside_validity"]


class TrustedKeysError(ValueError):
    """The trusted-keys file is missing, unreadable or malformed (named, with the reason)."""


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict on one signature, with a sentence saying why."""

    status: SignatureStatus
    message: str

    @property
    def ok(self) -> bool:
        return self.status == "valid"


class TrustedKey(BaseModel):
    """One trusted public key and the period its signatures are accepted for."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str
    algorithm: str
    public_key: str
    valid_from: AwareDatetime | None = None
    valid_to: AwareDatetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> TrustedKey:
        try:
            key = load_public_key(self.public_key)
        except PublicKeyError as error:
            raise ValueError(f"key {self.key_id!r}: {error}") from error
        if key_id_of(key) != self.key_id:
            raise ValueError(
                f"key_id {self.key_id!r} is not the fingerprint of its public key "
                f"({key_id_of(key)})"
            )
        if algorithm_of(key) != self.algorithm:
            raise ValueError(
                f"key {self.key_id!r}: algorithm {self.algorithm!r} does not fit its public "
                f"key ({algorithm_of(key)})"
            )
        if self.valid_from and self.valid_to and self.valid_to <= self.valid_from:
            raise ValueError(f"key {self.key_id!r}: valid_to is not after valid_from")
        return self

    def loaded(self) -> PublicKey:
        return load_public_key(self.public_key)

    def covers(self, moment: datetime) -> bool:
        """True when ``moment`` is within [valid_from, valid_to)."""
        if self.valid_from is not None and moment < self.valid_from:
            return False
        return self.valid_to is None or moment < self.valid_to


class TrustedKeysFile(BaseModel):
    """The file's shape."""

    model_config = ConfigDict(extra="forbid")

    keys: list[TrustedKey] = []


class TrustedKeys:
    """The keys a verifier trusts; ``check`` judges one signature."""

    def __init__(self, keys: Iterable[TrustedKey] = ()) -> None:
        self.keys: tuple[TrustedKey, ...] = tuple(keys)
        self._public: dict[str, PublicKey] = {}
        for entry in self.keys:
            self._public.setdefault(entry.key_id, entry.loaded())

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._public

    def check(
        self,
        key_id: str,
        algorithm: str,
        message: bytes,
        signature: bytes,
        signed_at: datetime,
    ) -> SignatureCheck:
        """The verdict on ``signature`` of ``message`` by ``key_id`` made at ``signed_at``."""
        entries = [entry for entry in self.keys if entry.key_id == key_id]
        if not entries:
            return SignatureCheck("untrusted_key", f"key {key_id!r} is not a trusted key")
        if algorithm != entries[0].algorithm:
            return SignatureCheck(
                "bad_signature",
                f"key {key_id!r} signs with {entries[0].algorithm}, not {algorithm!r}",
            )
        if not signature_holds(self._public[key_id], message, signature):
            return SignatureCheck(
                "bad_signature", f"the signature is not key {key_id!r}'s signature of the content"
            )
        if signed_at.tzinfo is None or not any(entry.covers(signed_at) for entry in entries):
            periods = ", ".join(_period(entry) for entry in entries)
            return SignatureCheck(
                "outside_validity",
                f"signed at {_iso(signed_at)}, outside key {key_id!r}'s trusted period(s) "
                f"{periods}",
            )
        return SignatureCheck("valid", f"signed by trusted key {key_id!r}")

    def with_key(self, entry: TrustedKey) -> TrustedKeys:
        """These keys and ``entry`` (a new object: a loaded set is never changed)."""
        return TrustedKeys((*self.keys, entry))

    @classmethod
    def load(cls, path: Path) -> TrustedKeys:
        """The keys of ``path``; ``TrustedKeysError`` naming the file when it cannot be used."""
        try:
            with open(path, "rb") as file:
                data = file.read(MAX_TRUSTED_FILE_BYTES + 1)
        except FileNotFoundError as error:
            raise TrustedKeysError(f"no trusted-keys file at {str(path)!r}") from error
        except OSError as error:
            raise TrustedKeysError(
                f"cannot read trusted-keys file {str(path)!r}: {error.strerror}"
            ) from error
        if len(data) > MAX_TRUSTED_FILE_BYTES:
            raise TrustedKeysError(f"trusted-keys file {str(path)!r} is larger than 1 MiB")
        try:
            parsed = TrustedKeysFile.model_validate_json(data)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}"
                for e in error.errors()[:5]
            )
            message = f"trusted-keys file {str(path)!r} is not valid: {problems}"
            raise TrustedKeysError(message) from None
        return cls(parsed.keys)

    @classmethod
    def load_if_present(cls, path: Path) -> TrustedKeys:
        """The keys of ``path``, or none when there is no such file (a fresh machine)."""
        if not path.exists():
            return cls()
        return cls.load(path)

    def save(self, path: Path) -> None:
        """Write the keys to ``path`` atomically (the file is public, the folder 0700)."""
        body = TrustedKeysFile(keys=list(self.keys)).model_dump_json(indent=2) + "\n"
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".trusted-")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(body)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise


def trusted_entry(signer: Signer, valid_from: datetime | None = None) -> TrustedKey:
    """The trusted-keys entry of ``signer``'s public key, valid from ``valid_from`` on."""
    return TrustedKey(
        key_id=signer.key_id,
        algorithm=signer.algorithm,
        public_key=signer.public_key_pem(),
        valid_from=valid_from,
    )


def trust_signer(path: Path, signer: Signer, valid_from: datetime | None = None) -> bool:
    """Add ``signer``'s key to the file at ``path`` (created if absent); False if listed."""
    keys = TrustedKeys.load_if_present(path)
    if signer.key_id in keys:
        return False
    moment = valid_from if valid_from is not None else datetime.now(UTC)
    keys.with_key(trusted_entry(signer, moment)).save(path)
    return True


def _period(entry: TrustedKey) -> str:
    start = _iso(entry.valid_from) if entry.valid_from else "the beginning"
    end = _iso(entry.valid_to) if entry.valid_to else "no end"
    return f"[{start}, {end})"


def _iso(moment: datetime) -> str:
    return moment.isoformat()
