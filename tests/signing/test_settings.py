"""Signing settings come from ``TRADE_LEDGER__SIGNING__*``; defaults sit in the config folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.archive import ArchiveSettings
from adapters.signing import SigningSettings


def test_defaults_live_in_the_config_directory(signing_config: Path) -> None:
    settings = ArchiveSettings().signing
    assert settings.config_directory == signing_config
    assert settings.key_path == signing_config / "signing-key.pem"
    assert settings.trusted_keys_path == signing_config / "trusted-keys.json"
    assert settings.kms_key_id is None
    assert settings.enabled


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRADE_LEDGER__SIGNING__KEY_FILE", str(tmp_path / "k.pem"))
    monkeypatch.setenv("TRADE_LEDGER__SIGNING__TRUSTED_KEYS", str(tmp_path / "t.json"))
    monkeypatch.setenv("TRADE_LEDGER__SIGNING__KMS_KEY_ID", "alias/sign")
    settings = ArchiveSettings().signing
    assert settings.key_path == tmp_path / "k.pem"
    assert settings.trusted_keys_path == tmp_path / "t.json"
    assert settings.kms_key_id == "alias/sign"


def test_unset_config_directory_is_the_users_app_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRADE_LEDGER__SIGNING__CONFIG_DIRECTORY")
    monkeypatch.setenv("XDG_CONFIG_HOME", "/nonexistent/xdg")
    assert SigningSettings().config_directory == Path("/nonexistent/xdg/trade-ledger")
