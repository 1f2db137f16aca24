"""What the run log stores: one entry per archived run (a leaf) and signed checkpoints.

Both are canonical JSON (sorted keys, compact, UTF-8): what is hashed or signed is always
re-encoded from the parsed values, so how a file was spaced never matters.

- A **leaf** names a run: its key, the SHA-256 of its document's bytes, its head hash and
  ledger id. The tree's leaf hash is ``SHA-256(0x00 || canonical leaf)``.
- A **checkpoint** states the tree after an append: size, root, frontier (the roots of
  the perfect subtrees, enough to append without the leaves), UTC time, the SHA-256 of
  the previous checkpoint's canonical bytes (``None`` for size 1), and a signature over
  all of that by ``key_id`` with ``algorithm``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from adapters.archive.runlog.merkle import leaf_hash, root_from_frontier
from adapters.signing.port import Signer
from adapters.signing.trusted import SignatureCheck, TrustedKeys

LEAF_FORMAT = "trade-ledger-log-leaf/1"
CHECKPOINT_FORMAT = "trade-ledger-checkpoint/1"
MAX_RECORD_BYTES = 64 * 1024
"""A leaf is a few hundred bytes and a checkpoint at most a few kilobytes: more is refused."""
MAX_TEXT = 2048
_HEX64 = re.compile(r"[0-9a-f]{64}")


class LogRecordError(ValueError):
    """A leaf or checkpoint that is not one (the message names the field)."""


def canonical(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class LogEntry:
    """One archived run as the log records it."""

    key: str
    document_sha256: str
    head_hash: str
    ledger_id: str

    @classmethod
    def of_document(cls, key: str, body: bytes, head_hash: str | None, ledger_id: str) -> LogEntry:
        return cls(key, hashlib.sha256(body).hexdigest(), head_hash or "", ledger_id)

    def encode(self) -> bytes:
        return canonical(
            {
                "format": LEAF_FORMAT,
                "key": self.key,
                "document_sha256": self.document_sha256,
                "head_hash": self.head_hash,
                "ledger_id": self.ledger_id,
            }
        )

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.encode())


def decode_entry(body: bytes) -> LogEntry:
    """A stored leaf; ``LogRecordError`` for anything else."""
    value = _object(body, "leaf")
    _exact_fields(value, {"format", "key", "document_sha256", "head_hash", "ledger_id"}, "leaf")
    if value["format"] != LEAF_FORMAT:
        raise LogRecordError(f"leaf format is {value['format']!r}, not {LEAF_FORMAT!r}")
    return LogEntry(
        key=_text(value, "key"),
        document_sha256=_hex(value, "document_sha256"),
        head_hash=_text(value, "head_hash"),
        ledger_id=_text(value, "ledger_id"),
    )


@dataclass(frozen=True)
class Checkpoint:
    """The signed state of the log after ``size`` appends."""

    size: int
    root: str
    frontier: tuple[str, ...]
    time: str
    previous: str | None
    key_id: str
    algorithm: str
    signature: str = ""

    def fields(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "size": self.size,
            "root": self.root,
            "frontier": list(self.frontier),
            "time": self.time,
            "previous": self.previous,
            "key_id": self.key_id,
            "algorithm": self.algorithm,
        }

    def statement(self) -> bytes:
        """The bytes the signature covers: every field but the signature."""
        return canonical(self.fields())

    def as_json(self) -> dict[str, Any]:
        return {**self.fields(), "signature": self.signature}

    def encode(self) -> bytes:
        return canonical(self.as_json())

    @property
    def digest(self) -> str:
        """What the next checkpoint's ``previous`` holds."""
        return hashlib.sha256(self.encode()).hexdigest()

    def check_signature(self, trusted: TrustedKeys) -> SignatureCheck:
        """The signature's verdict by ``trusted`` keys, as made at the checkpoint's time."""
        try:
            signature = base64.b64decode(self.signature, validate=True)
        except (binascii.Error, ValueError):
            return SignatureCheck("bad_signature", "the signature is not base64")
        signed_at = datetime.fromisoformat(self.time)
        return trusted.check(self.key_id, self.algorithm, self.statement(), signature, signed_at)


def signed_checkpoint(
    signer: Signer,
    size: int,
    frontier: list[bytes],
    previous: Checkpoint | None,
    now: datetime | None = None,
) -> Checkpoint:
    """A new checkpoint after ``size`` appends, signed by ``signer``."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    unsigned = Checkpoint(
        size=size,
        root=root_from_frontier(frontier).hex(),
        frontier=tuple(value.hex() for value in frontier),
        time=moment.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        previous=previous.digest if previous is not None else None,
        key_id=signer.key_id,
        algorithm=signer.algorithm,
    )
    signature = base64.b64encode(signer.sign(unsigned.statement())).decode("ascii")
    return Checkpoint(**{**unsigned.__dict__, "signature": signature})


def decode_checkpoint(body: bytes) -> Checkpoint:
    """A stored (or saved) checkpoint; ``LogRecordError`` for anything else.

    Besides the types, the frontier must fit the size and fold to the root.
    """
    value = _object(body, "checkpoint")
    expected = {*Checkpoint(0, "", (), "", None, "", "").fields(), "signature"}
    _exact_fields(value, expected, "checkpoint")
    if value["format"] != CHECKPOINT_FORMAT:
        raise LogRecordError(f"checkpoint format is {value['format']!r}, not {CHECKPOINT_FORMAT!r}")
    size = value["size"]
    if type(size) is not int or not 1 <= size < 10**15:
        raise LogRecordError(f"checkpoint size {size!r} is not a positive whole number")
    frontier = value["frontier"]
    if not isinstance(frontier, list) or len(frontier) != size.bit_count():
        raise LogRecordError(f"checkpoint frontier does not fit size {size}")
    hexes = tuple(_hex({"frontier": item}, "frontier") for item in frontier)
    root = _hex(value, "root")
    if root_from_frontier([bytes.fromhex(item) for item in hexes]).hex() != root:
        raise LogRecordError("checkpoint frontier does not fold to its root")
    previous = value["previous"]
    if previous is not None:
        previous = _hex(value, "previous")
    if (previous is None) != (size == 1):
        raise LogRecordError("only the first checkpoint has no previous checkpoint")
    time = _text(value, "time")
    try:
        moment = datetime.fromisoformat(time)
    except ValueError as error:
        raise LogRecordError(f"checkpoint time {time!r} is not an ISO time") from error
    if moment.tzinfo is None or moment.utcoffset() != UTC.utcoffset(None):
        raise LogRecordError(f"checkpoint time {time!r} is not UTC")
    return Checkpoint(
        size=size,
        root=root,
        frontier=hexes,
        time=time,
        previous=previous,
        key_id=_text(value, "key_id"),
        algorithm=_text(value, "algorithm"),
        signature=_text(value, "signature"),
    )


def _object(body: bytes, what: str) -> dict[str, Any]:
    if len(body) > MAX_RECORD_BYTES:
        raise LogRecordError(f"{what} is larger than {MAX_RECORD_BYTES} bytes")
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise LogRecordError(f"{what} is not JSON: {error}") from error
    if not isinstance(value, dict):
        raise LogRecordError(f"{what} is not a JSON object")
    return value


def _exact_fields(value: dict[str, Any], expected: set[str], what: str) -> None:
    if set(value) != expected:
        missing = sorted(expected - set(value))
        extra = sorted(set(value) - expected)
        raise LogRecordError(f"{what} fields differ: missing {missing}, unexpected {extra}")


def _text(value: dict[str, Any], name: str) -> str:
    item = value[name]
    if not isinstance(item, str) or len(item) > MAX_TEXT:
        raise LogRecordError(f"{name} is not a string of at most {MAX_TEXT} characters")
    return item


def _hex(value: dict[str, Any], name: str) -> str:
    item = value[name]
    if not isinstance(item, str) or not _HEX64.fullmatch(item):
        raise LogRecordError(f"{name} is not 64 lower-case hex digits")
    return item
