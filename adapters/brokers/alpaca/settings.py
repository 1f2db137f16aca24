"""Alpaca credentials and endpoints from the environment (pydantic-settings).

=====================  ======================================================  ==========
variable               meaning                                                 default
=====================  ======================================================  ==========
``ALPACA_API_KEY``     API key id (``APCA_API_KEY_ID`` also accepted)          required
``ALPACA_SECRET_KEY``  secret key (``APCA_API_SECRET_KEY`` also accepted)      required
``ALPACA_PAPER``       paper trading                                           ``true``
``ALPACA_BASE_URL``    trading API base URL override (tests, proxies)          Alpaca's
``ALPACA_DATA_URL``    market data API base URL override                       Alpaca's
``ALPACA_DATA_FEED``   quote feed: ``iex``, ``sip``, ...                       account's
``ALPACA_POLL_INTERVAL``  seconds between order polls                          ``1.0``
=====================  ======================================================  ==========

Secrets are ``SecretStr``: they print as ``**********`` and are never logged.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class AlpacaConfigError(ValueError):
    """Alpaca cannot be used as configured (e.g. no credentials)."""


class AlpacaSettings(BaseSettings):
    """How to reach Alpaca."""

    model_config = SettingsConfigDict(env_prefix="ALPACA_", case_sensitive=False, extra="ignore")

    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ALPACA_API_KEY", "APCA_API_KEY_ID")
    )
    secret_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ALPACA_SECRET_KEY", "APCA_API_SECRET_KEY")
    )
    paper: bool = True
    base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ALPACA_BASE_URL", "APCA_API_BASE_URL")
    )
    data_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ALPACA_DATA_URL", "APCA_API_DATA_URL")
    )
    data_feed: str | None = None
    poll_interval: float = Field(default=1.0, gt=0)

    @field_validator("base_url", "data_url")
    @classmethod
    def _strip_version(cls, value: str | None) -> str | None:
        """alpaca-py appends ``/v2`` itself; accept URLs written with or without it."""
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        return value.removesuffix("/v2")

    @property
    def has_credentials(self) -> bool:
        return bool(self.api_key and self.secret_key)

    def _keys(self) -> tuple[str, str]:
        if not (self.api_key and self.secret_key):
            raise AlpacaConfigError(
                "Alpaca credentials missing: set ALPACA_API_KEY and ALPACA_SECRET_KEY"
            )
        return self.api_key.get_secret_value(), self.secret_key.get_secret_value()

    def trading_client(self) -> Any:
        """alpaca-py's ``TradingClient`` for these settings."""
        from alpaca.trading.client import TradingClient  # noqa: PLC0415

        api_key, secret_key = self._keys()
        return TradingClient(
            api_key=api_key, secret_key=secret_key, paper=self.paper, url_override=self.base_url
        )

    def data_client(self) -> Any:
        """alpaca-py's ``StockHistoricalDataClient`` (latest quotes) for these settings."""
        from alpaca.data.historical.stock import StockHistoricalDataClient  # noqa: PLC0415

        api_key, secret_key = self._keys()
        return StockHistoricalDataClient(
            api_key=api_key, secret_key=secret_key, url_override=self.data_url
        )
