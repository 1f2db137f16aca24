"""Signing settings, nested in the archive's (``TRADE_LEDGER__SIGNING__...``).

::

    TRADE_LEDGER__SIGNING__CONFIG_DIRECTORY=/etc/trade-ledger   # default: the user's config dir
    TRADE_LEDGER__SIGNING__KEY_FILE=/etc/trade-ledger/signing-key.pem
    TRADE_LEDGER__SIGNING__KMS_KEY_ID=alias/trade-ledger-signing  # sign with KMS instead
    TRADE_LEDGER__SIGNING__TRUSTED_KEYS=/etc/trade-ledger/trusted-keys.json
    TRADE_LEDGER__SIGNING__ENABLED=false                           # write unsigned documents
"""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import BaseModel, Field

APP_NAME = "trade-ledger"
KEY_FILE_NAME = "signing-key.pem"
TRUSTED_KEYS_FILE_NAME = "trusted-keys.json"


def default_config_directory() -> Path:
    """The user's configuration folder for trade-ledger (``~/.config/trade-ledger`` on Linux)."""
    return Path(typer.get_app_dir(APP_NAME))


class SigningSettings(BaseModel):
    """Which key signs archive documents, and which public keys a verifier trusts."""

    enabled: bool = True
    config_directory: Path = Field(default_factory=default_config_directory)
    key_file: Path | None = None
    kms_key_id: str | None = None
    trusted_keys: Path | None = None

    @property
    def key_path(self) -> Path:
        """The local private key file (default: ``<config_directory>/signing-key.pem``)."""
        return self.key_file if self.key_file is not None else self.config_directory / KEY_FILE_NAME

    @property
    def trusted_keys_path(self) -> Path:
        """The trusted-keys file (default: ``<config_directory>/trusted-keys.json``)."""
        if self.trusted_keys is not None:
            return self.trusted_keys
        return self.config_directory / TRUSTED_KEYS_FILE_NAME
