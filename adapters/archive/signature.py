"""A run document's signature: a block at the end of the document, over a statement.

The writer signs the *statement* of what the document is::

    b"trade-ledger run document v1\\n" + canonical_json({
        "key", "format_version", "ledger_id", "correlation_id", "created_at", "head_hash",
        "body_sha256", "algorithm", "key_id", "signed_at"})

``body_sha256`` is the SHA-256 of the unsigned document (``encode_run``'s exact bytes), and
the signed document is those bytes with the block appended as the last member::

    {...unsigned members...,"signature":{"algorithm":..,"key_id":..,"signed_at":..,
                                         "body_sha256":..,"value":"<base64>"}}

so the unsigned bytes are recovered exactly by cutting the block off again (the verifier
re-serialises the parsed block and requires the document to end with it). Every byte of a
signed document is therefore covered: its content by ``body_sha256``, its place by ``key``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import orjson

from adapters.archive.document import canonical_json
from adapters.signing import Signer, TrustedKeys

SIGNATURE_FIELD = "signature"
STATEMENT_PREFIX = b"trade-ledger run document v1\n"
_BLOCK_FIELDS = ("algorithm", "key_id", "signed_at", "body_sha256", "value")
_MEMBER = b',"' + SIGNATURE_FIELD.encode() + b'":'

SignatureVerdict = Literal["unsigned", "valid", "untrusted_key", "invalid"]


@dataclass(frozen=True)
class SignatureFinding:
    """What the signature of one document says: a verdict, its reason, who signed when."""

    verdict: SignatureVerdict
    message: str
    key_id: str | None = None
    signed_at: str | None = None


def statement(
    key: str, document: Mapping[str, Any], body_sha256: str, block: Mapping[str, Any]
) -> bytes:
    """The bytes a document's signature covers (see the module docstring)."""
    fields = {
        "key": key,
        "format_version": document.get("format_version"),
        "ledger_id": document.get("ledger_id"),
        "correlation_id": document.get("correlation_id"),
        "created_at": document.get("created_at"),
        "head_hash": document.get("head_hash"),
        "body_sha256": body_sha256,
        "algorithm": block.get("algorithm"),
        "key_id": block.get("key_id"),
        "signed_at": block.get("signed_at"),
    }
    return STATEMENT_PREFIX + canonical_json(fields)


def sign_document(key: str, unsigned: bytes, signer: Signer, now: datetime | None = None) -> bytes:
    """``unsigned`` (``encode_run``'s bytes) with its signature block appended.

    Raises whatever the signer raises (``SigningError``, a KMS error): the caller decides.
    """
    document = orjson.loads(unsigned)
    if not isinstance(document, dict) or SIGNATURE_FIELD in document:
        raise ValueError("only an unsigned run document can be signed")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    body_sha256 = hashlib.sha256(unsigned).hexdigest()
    block: dict[str, Any] = {
        "algorithm": signer.algorithm,
        "key_id": signer.key_id,
        "signed_at": moment.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        "body_sha256": body_sha256,
    }
    signature = signer.sign(statement(key, document, body_sha256, block))
    block["value"] = base64.b64encode(signature).decode("ascii")
    return unsigned[:-1] + _MEMBER + orjson.dumps(block) + b"}"


def unsigned_bytes(body: bytes, document: Mapping[str, Any]) -> bytes | None:
    """The document's bytes as signed (block cut off), or ``None`` if not in signed form."""
    cut = _cut(body, document)
    return None if cut is None else body[:cut] + b"}"


def _cut(body: bytes, document: Mapping[str, Any]) -> int | None:
    """Where the signature member starts in ``body`` (``None``: not in the signed form)."""
    try:
        tail = _MEMBER + orjson.dumps(document.get(SIGNATURE_FIELD)) + b"}"
    except (orjson.JSONEncodeError, TypeError):
        return None
    end = len(body.rstrip(b" \t\r\n")) if body[-1:] != b"}" else len(body)
    if not body.endswith(tail, 0, end):
        return None
    return end - len(tail)


def _unsigned_sha256(body: bytes, cut: int) -> str:
    """SHA-256 of ``body[:cut] + b"}"`` without copying the body."""
    digest = hashlib.sha256(memoryview(body)[:cut])
    digest.update(b"}")
    return digest.hexdigest()


def same_content(stored: bytes, new: bytes) -> bool:
    """True when two documents are equal but for their signature blocks (a retried write
    signed again: ECDSA signatures, and ``signed_at``, differ each time)."""
    if stored == new:
        return True
    content = _content(stored)
    return content is not None and content == _content(new)


def _content(body: bytes) -> bytes | None:
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict):
        return None
    if SIGNATURE_FIELD not in document:
        return body
    return unsigned_bytes(body, document)


def check_signature(
    key: str, body: bytes, document: Mapping[str, Any], trusted: TrustedKeys | None
) -> SignatureFinding:
    """The verdict on a parsed document's signature at ``key``, against ``trusted`` keys."""
    block = document.get(SIGNATURE_FIELD)
    if block is None:
        return SignatureFinding("unsigned", "the document is not signed")
    if not isinstance(block, dict) or set(block) != set(_BLOCK_FIELDS):
        return SignatureFinding(
            "invalid", f"the signature block is not an object of {', '.join(_BLOCK_FIELDS)}"
        )
    key_id, signed_at = block["key_id"], block["signed_at"]
    if not all(isinstance(block[name], str) for name in _BLOCK_FIELDS):
        return SignatureFinding("invalid", "a signature block field is not a string")

    def found(verdict: SignatureVerdict, message: str) -> SignatureFinding:
        return SignatureFinding(verdict, message, key_id, signed_at)

    cut = _cut(body, document)
    if cut is None:
        return found("invalid", "the document's bytes are not the form it was signed in")
    body_sha256 = _unsigned_sha256(body, cut)
    if body_sha256 != block["body_sha256"]:
        return found(
            "invalid", "the document's content changed after signing (body digest differs)"
        )
    try:
        value = base64.b64decode(block["value"], validate=True)
        moment = datetime.fromisoformat(signed_at)
    except (binascii.Error, ValueError):
        return found("invalid", "the signature value or signed_at is malformed")
    if moment.tzinfo is None:
        return found("invalid", "signed_at has no time zone")
    if trusted is None or len(trusted) == 0:
        return found("untrusted_key", f"signed by key {key_id!r}, but no keys are trusted")
    check = trusted.check(
        key_id, block["algorithm"], statement(key, document, body_sha256, block), value, moment
    )
    if check.status == "valid":
        return found("valid", check.message)
    if check.status == "bad_signature":
        return found(
            "invalid",
            f"{check.message} (the document was changed, moved to another key, or signed "
            "by someone else)",
        )
    return found("untrusted_key", check.message)
