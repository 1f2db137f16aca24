"""Signatures for the archive: a signer port, a local Ed25519 key, AWS KMS, trusted keys.

::

    signer = create_key(path)                  # or LocalSigner.load(path), KmsSigner(key_id)
    signature = signer.sign(message)
    trusted = TrustedKeys.load(trusted_keys_path)
    trusted.check(signer.key_id, signer.algorithm, message, signature, signed_at).status
"""

from __future__ import annotations

from adapters.signing.local import KeyFileError, KeyFileExistsError, LocalSigner, create_key
from adapters.signing.port import ECDSA_P256_SHA256, ED25519, Signer, SigningError
from adapters.signing.public import PublicKeyError, key_id_of, load_public_key
from adapters.signing.settings import SigningSettings
from adapters.signing.trusted import (
    SignatureCheck,
    SignatureStatus,
    TrustedKey,
    TrustedKeys,
    TrustedKeysError,
    trust_signer,
    trusted_entry,
)

__all__ = [
    "ECDSA_P256_SHA256",
    "ED25519",
    "KeyFileError",
    "KeyFileExistsError",
    "LocalSigner",
    "PublicKeyError",
    "SignatureCheck",
    "SignatureStatus",
    "Signer",
    "SigningError",
    "SigningSettings",
    "TrustedKey",
    "TrustedKeys",
    "TrustedKeysError",
    "create_key",
    "key_id_of",
    "load_public_key",
    "trust_signer",
    "trusted_entry",
]
