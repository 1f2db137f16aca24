"""A small Ed25519 signer and signature check for run-log tests (cryptography's own)."""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from adapters.archive.runlog.records import SignatureCheck


class KeySigner:
    """Signs with a fresh Ed25519 key (or a given one); ``fail`` makes ``sign`` raise."""

    algorithm = "ed25519"

    def __init__(self, key_id: str = "test-key", key: Ed25519PrivateKey | None = None) -> None:
        self.key_id = key_id
        self.key = key if key is not None else Ed25519PrivateKey.generate()
        self.fail = False

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    def sign(self, message: bytes) -> bytes:
        if self.fail:
            raise RuntimeError("signer unavailable")
        return self.key.sign(message)


def trusting(*signers: KeySigner) -> SignatureCheck:
    """A signature check that trusts exactly these signers' keys."""
    keys = {signer.key_id: signer.public_key for signer in signers}

    def check(key_id: str, algorithm: str, message: bytes, signature: bytes) -> str:
        key = keys.get(key_id)
        if key is None or algorithm != "ed25519":
            return "untrusted_key"
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return "bad_signature"
        return "valid"

    return check
