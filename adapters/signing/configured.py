"""The signer the settings name, loaded on first use (making an archive does no I/O).

A key that cannot be loaded (no key file yet, KMS unreachable) raises ``SigningError`` at
``sign``; the archive then writes the document unsigned and says why, and the next write
tries again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from adapters.signing.local import KeyFileExistsError, LocalSigner, create_key
from adapters.signing.port import Signer, SigningError
from adapters.signing.settings import SigningSettings
from adapters.signing.trusted import trust_signer


class DeferredSigner:
    """A ``Signer`` that loads the real one on first use (and again after a failure)."""

    def __init__(self, load: Callable[[], Signer], source: str) -> None:
        self._load = load
        self.source = source
        self._signer: Signer | None = None
        self._lock = threading.Lock()

    def loaded(self) -> Signer:
        """The real signer (``SigningError`` when it cannot be loaded)."""
        if self._signer is None:
            with self._lock:
                if self._signer is None:
                    self._signer = self._load()
        return self._signer

    @property
    def key_id(self) -> str:
        return self.loaded().key_id

    @property
    def algorithm(self) -> str:
        return self.loaded().algorithm

    def sign(self, message: bytes) -> bytes:
        return self.loaded().sign(message)

    def public_key_pem(self) -> str:
        return self.loaded().public_key_pem()

    def __repr__(self) -> str:
        return f"DeferredSigner({self.source!r})"


def signer_from_settings(settings: SigningSettings) -> Signer | None:
    """The configured signer: KMS when a KMS key is named, else the local key file.

    ``None`` when signing is switched off (``TRADE_LEDGER__SIGNING__ENABLED=false``).
    """
    if not settings.enabled:
        return None
    kms_key_id = settings.kms_key_id
    if kms_key_id:

        def kms() -> Signer:
            from adapters.signing.kms import KmsSigner  # noqa: PLC0415  (boto3 only when used)

            return KmsSigner(kms_key_id)

        return DeferredSigner(kms, f"KMS key {kms_key_id}")
    path = settings.key_path
    return DeferredSigner(lambda: LocalSigner.load(path), str(path))


def first_use_key(settings: SigningSettings, now: datetime | None = None) -> LocalSigner | None:
    """Create the local key on a fresh machine and trust it; the new key, or ``None``.

    Nothing happens when signing is off, a KMS key is configured, or the key file exists
    (so this says "created" once per machine). The key's public half goes into the
    trusted-keys file, valid from now, so ``verify`` with no flags trusts this machine's runs.
    ``SigningError`` when the key cannot be created.
    """
    if not settings.enabled or settings.kms_key_id or settings.key_path.exists():
        return None
    moment = now if now is not None else datetime.now(UTC)
    try:
        signer = create_key(settings.key_path)
    except KeyFileExistsError:  # another process made it first
        return None
    try:
        trust_signer(settings.trusted_keys_path, signer, moment)
    except (OSError, ValueError) as error:
        raise SigningError(
            f"created signing key {str(settings.key_path)!r} but could not trust it in "
            f"{str(settings.trusted_keys_path)!r}: {error}"
        ) from error
    return signer
