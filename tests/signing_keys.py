"""In-memory signing keys for tests: the archive fixtures sign with ``SIGNER`` and trust it."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.signing import LocalSigner, TrustedKeys, trusted_entry

SIGNER = LocalSigner(Ed25519PrivateKey.generate())
"""The archive fixtures' signer (trusted by ``TRUSTED``)."""
OUTSIDER = LocalSigner(Ed25519PrivateKey.generate())
"""A well-formed key nobody trusts: what a forger without the real key signs with."""
TRUSTED = TrustedKeys([trusted_entry(SIGNER)])


def trust_test_key(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """This machine's configuration (``folder``) trusts ``SIGNER``, as after ``keys init``:
    for CLI tests that clear the ``TRADE_LEDGER__`` variables and verify with no flags."""
    monkeypatch.setenv("TRADE_LEDGER__SIGNING__CONFIG_DIRECTORY", str(folder))
    TRUSTED.save(folder / "trusted-keys.json")
