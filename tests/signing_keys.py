"""In-memory signing keys for tests: the archive fixtures sign with ``SIGNER`` and trust it."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.signing import LocalSigner, TrustedKeys, trusted_entry

SIGNER = LocalSigner(Ed25519PrivateKey.generate())
"""The archive fixtures' signer (trusted by ``TRUSTED``)."""
OUTSIDER = LocalSigner(Ed25519PrivateKey.generate())
"""A well-formed key nobody trusts: what a forger without the real key signs with."""
TRUSTED = TrustedKeys([trusted_entry(SIGNER)])
