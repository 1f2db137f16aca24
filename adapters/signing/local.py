"""The local signer: an Ed25519 private key in a PEM file (mode 0600) outside the archive.

``create_key`` makes a new key and refuses to overwrite one; ``LocalSigner.load`` reads an
existing one and refuses a file others may read. The private key never leaves this module:
``repr`` and errors name the file, never its content.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.signing.port import ED25519, SigningError
from adapters.signing.public import key_id_of, public_pem

MAX_KEY_FILE_BYTES = 64 * 1024
KEY_FILE_MODE = 0o600
KEY_DIRECTORY_MODE = 0o700


class KeyFileError(SigningError):
    """The key file is missing, unreadable, too open, or not an Ed25519 private key."""


class KeyFileExistsError(KeyFileError):
    """``create_key`` never replaces a key: documents signed with it must stay checkable."""


class LocalSigner:
    """Signs with an Ed25519 private key (deterministic signatures, 64 bytes)."""

    algorithm = ED25519

    def __init__(self, private_key: Ed25519PrivateKey, path: Path | None = None) -> None:
        self._private_key = private_key
        self.path = path
        public = private_key.public_key()
        self._public_pem = public_pem(public)
        self._key_id = key_id_of(public)

    @property
    def key_id(self) -> str:
        return self._key_id

    def sign(self, message: bytes) -> bytes:
        return self._private_key.sign(message)

    def public_key_pem(self) -> str:
        return self._public_pem

    def __repr__(self) -> str:
        return f"LocalSigner(key_id={self._key_id!r}, path={str(self.path)!r})"

    @classmethod
    def load(cls, path: Path) -> LocalSigner:
        """The key at ``path``; ``KeyFileError`` naming the file when it cannot be used."""
        try:
            with open(path, "rb") as file:
                mode = os.fstat(file.fileno()).st_mode
                if not stat.S_ISREG(mode):
                    raise KeyFileError(f"signing key {str(path)!r} is not a regular file")
                if mode & 0o077:
                    raise KeyFileError(
                        f"signing key {str(path)!r} may be read by others (mode "
                        f"{stat.S_IMODE(mode):04o}); make it 0600 (chmod 600)"
                    )
                data = file.read(MAX_KEY_FILE_BYTES + 1)
        except FileNotFoundError as error:
            raise KeyFileError(
                f"no signing key at {str(path)!r} (create one: trade-ledger keys init)"
            ) from error
        except OSError as error:
            raise KeyFileError(
                f"cannot read signing key {str(path)!r}: {error.strerror}"
            ) from error
        if len(data) > MAX_KEY_FILE_BYTES:
            raise KeyFileError(f"signing key {str(path)!r} is larger than a key file can be")
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as error:
            # The message of cryptography's error never quotes the key material.
            raise KeyFileError(
                f"signing key {str(path)!r} is not an unencrypted PEM private key"
            ) from error
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(f"signing key {str(path)!r} is not an Ed25519 key")
        return cls(key, path)


def create_key(path: Path) -> LocalSigner:
    """A new Ed25519 key written to ``path`` (0600, folder 0700); never overwrites one."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        path.parent.mkdir(mode=KEY_DIRECTORY_MODE, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError as error:
        raise KeyFileExistsError(
            f"a signing key already exists at {str(path)!r}; it is not replaced"
        ) from error
    except OSError as error:
        raise KeyFileError(f"cannot create signing key {str(path)!r}: {error.strerror}") from error
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.fchmod(file.fileno(), KEY_FILE_MODE)  # whatever the umask
            file.write(pem)
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        path.unlink(missing_ok=True)
        raise KeyFileError(f"cannot write signing key {str(path)!r}: {error.strerror}") from error
    return LocalSigner(key, path)
