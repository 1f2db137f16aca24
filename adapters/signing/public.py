"""Public keys: reading PEM, naming a key by its fingerprint, checking one signature.

Only public-key operations live here, so a verifier imports nothing that can sign.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from adapters.signing.port import ECDSA_P256_SHA256, ED25519

PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey
KEY_ID_HEX = 32
"""A key id is the first 32 hex digits (128 bits) of the SHA-256 of its public key's DER."""


class PublicKeyError(ValueError):
    """A public key that is not PEM, or of a kind the archive does not sign with."""


def load_public_key(pem: str) -> PublicKey:
    """An Ed25519 or P-256 public key from PEM; ``PublicKeyError`` for anything else."""
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError, UnsupportedAlgorithm) as error:
        raise PublicKeyError(f"not a PEM public key: {error}") from error
    if isinstance(key, Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise PublicKeyError(f"unsupported public key type {type(key).__name__} (Ed25519 or P-256)")


def algorithm_of(key: PublicKey) -> str:
    """The signature algorithm a key of this kind signs with."""
    return ED25519 if isinstance(key, Ed25519PublicKey) else ECDSA_P256_SHA256


def public_pem(key: PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def key_id_of(key: PublicKey) -> str:
    """The key's fingerprint: it names the key, and a trusted entry must match its PEM."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()[:KEY_ID_HEX]


def signature_holds(key: PublicKey, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is the key's signature of ``message`` (ECDSA: DER, SHA-256)."""
    try:
        if isinstance(key, Ed25519PublicKey):
            key.verify(signature, message)
        else:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True
