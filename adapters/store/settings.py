"""Where the executor journals its runs: the event store's settings (pydantic-settings).

``TRADE_LEDGER__STORE__KIND`` is ``sqlite`` (the embedded default: one file, at
``TRADE_LEDGER__STORE__SQLITE_PATH``), ``postgres`` (several hosts or Lambdas sharing one
store: ``TRADE_LEDGER__STORE__POSTGRES__HOST``, ``__PORT``, ``__DBNAME``, ``__USER``,
``__PASSWORD``, ``__SCHEMA_NAME``) or ``memory`` (nothing survives the process: for
library users and tests that choose it). Translated into eventsourcing's own
persistence settings (``PERSISTENCE_MODULE``, ``SQLITE_DBNAME``, ``POSTGRES_*``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

StoreKind = Literal["sqlite", "postgres", "memory"]
DEFAULT_SQLITE_PATH = Path("trade-ledger-events.sqlite")
_SQL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


class PostgresStoreSettings(BaseModel):
    """A PostgreSQL event store (eventsourcing's ``eventsourcing.postgres`` module)."""

    host: str = "127.0.0.1"
    port: int = Field(default=5432, ge=1, le=65535)
    dbname: str = "trade_ledger"
    user: str = "postgres"
    password: SecretStr = SecretStr("")
    schema_name: str = ""
    pool_size: int = Field(default=5, ge=1, le=100)
    connect_timeout: int = Field(default=10, ge=1)

    @field_validator("schema_name")
    @classmethod
    def _plain_schema(cls, value: str) -> str:
        if value and not _SQL_NAME.fullmatch(value):
            raise ValueError(f"schema name {value!r} is not a plain SQL name (letters, digits, _)")
        return value


class EventStoreSettings(BaseSettings):
    """The event store the executor records runs in (durable unless ``kind="memory"``)."""

    model_config = SettingsConfigDict(
        env_prefix="TRADE_LEDGER__STORE__",
        env_nested_delimiter="__",
        case_sensitive=False,
        extra="ignore",
    )

    kind: StoreKind = "sqlite"
    sqlite_path: Path = DEFAULT_SQLITE_PATH
    postgres: PostgresStoreSettings = Field(default_factory=PostgresStoreSettings)

    @field_validator("sqlite_path")
    @classmethod
    def _a_file(cls, value: Path) -> Path:
        text = str(value)
        if not text.strip() or text == "." or ":memory:" in text or text.startswith("file:"):
            raise ValueError(f"sqlite_path {text!r} is not a file path")
        return value

    @property
    def durable(self) -> bool:
        return self.kind != "memory"

    def eventsourcing_env(self) -> dict[str, str]:
        """eventsourcing's persistence settings for this store (given to the application,
        they take precedence over the process environment's)."""
        if self.kind == "memory":
            return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
        if self.kind == "sqlite":
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(self.sqlite_path),
            }
        postgres = self.postgres
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_HOST": postgres.host,
            "POSTGRES_PORT": str(postgres.port),
            "POSTGRES_DBNAME": postgres.dbname,
            "POSTGRES_USER": postgres.user,
            "POSTGRES_PASSWORD": postgres.password.get_secret_value(),
            "POSTGRES_POOL_SIZE": str(postgres.pool_size),
            "POSTGRES_CONNECT_TIMEOUT": str(postgres.connect_timeout),
        }
        if postgres.schema_name:
            env["POSTGRES_SCHEMA"] = postgres.schema_name
        return env

    def describe(self) -> str:
        """Where runs go, for messages (never the password)."""
        if self.kind == "sqlite":
            return f"sqlite:{self.sqlite_path}"
        if self.kind == "postgres":
            p = self.postgres
            schema = f"/{p.schema_name}" if p.schema_name else ""
            return f"postgres://{p.user}@{p.host}:{p.port}/{p.dbname}{schema}"
        return "memory"
