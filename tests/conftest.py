"""Every test's signing configuration lives in its own temporary folder, never the real home.

``demo`` creates a signing key on first use in the configuration folder; without this, a
test running it would write one into the developer's ``~/.config/trade-ledger``.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def signing_config(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A fresh configuration folder (``TRADE_LEDGER__SIGNING__CONFIG_DIRECTORY``) per test."""
    folder = tmp_path_factory.mktemp("trade-ledger-config")
    monkeypatch.setenv("TRADE_LEDGER__SIGNING__CONFIG_DIRECTORY", str(folder))
    # Also where the default points when a test clears the TRADE_LEDGER__ variables.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder / "xdg"))
    for name in ("KEY_FILE", "KMS_KEY_ID", "TRUSTED_KEYS", "ENABLED"):
        monkeypatch.delenv(f"TRADE_LEDGER__SIGNING__{name}", raising=False)
    return folder


@pytest.fixture(autouse=True)
def event_store_file(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The executor's durable default store (a SQLite file) lives in the test's own folder,
    never in the working directory (``TRADE_LEDGER__STORE__*``)."""
    path = tmp_path_factory.mktemp("event-store") / "events.sqlite"
    monkeypatch.setenv("TRADE_LEDGER__STORE__SQLITE_PATH", str(path))
    monkeypatch.delenv("TRADE_LEDGER__STORE__KIND", raising=False)
    return path
