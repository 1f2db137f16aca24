"""The signer port: what signs archive documents and log checkpoints.

A signer holds (or reaches) one private key. Verifiers never need it: they check a
signature with the public key alone (see ``adapters.signing.trusted``).
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

ED25519 = "ed25519"
ECDSA_P256_SHA256 = "ecdsa-p256-sha256"
Algorithm = Literal["ed25519", "ecdsa-p256-sha256"]
ALGORITHMS: tuple[str, ...] = (ED25519, ECDSA_P256_SHA256)


class SigningError(Exception):
    """A signature could not be made (key missing or unreadable, KMS unreachable, ...)."""


@runtime_checkable
class Signer(Protocol):
    """Signs messages with one key; ``key_id`` names its public key in a trusted-keys file."""

    @property
    def key_id(self) -> str:
        """The public key's fingerprint (see ``adapters.signing.public.key_id_of``)."""
        ...

    @property
    def algorithm(self) -> str:
        """``ed25519`` or ``ecdsa-p256-sha256``."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The signature of ``message``; ``SigningError`` when none can be made."""
        ...

    def public_key_pem(self) -> str:
        """The public key, PEM (SubjectPublicKeyInfo)."""
        ...
