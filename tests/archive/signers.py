"""Signers and trusted keys for run-log tests: the project's own Ed25519 signer, fresh keys."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.signing import LocalSigner, TrustedKeys, trusted_entry


class KeySigner(LocalSigner):
    """A ``LocalSigner`` of a fresh key (no file); ``fail = True`` makes ``sign`` raise."""

    def __init__(self) -> None:
        super().__init__(Ed25519PrivateKey.generate())
        self.fail = False

    def sign(self, message: bytes) -> bytes:
        if self.fail:
            raise RuntimeError("signer unavailable")
        return super().sign(message)


def trusting(*signers: LocalSigner) -> TrustedKeys:
    """Trusted keys holding exactly these signers' public keys, valid for ever."""
    return TrustedKeys(trusted_entry(signer) for signer in signers)
