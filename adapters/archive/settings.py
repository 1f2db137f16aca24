"""The archive's settings from the environment (pydantic-settings, ``TRADE_LEDGER__`` prefix,
``__`` nesting).

The guide's variables work as written::

    TRADE_LEDGER__BUCKET_NAME=the-alchemiser-v2-trade-ledger-dev
    TRADE_LEDGER__ENABLED=true

Nested groups use ``__`` too, e.g. ``TRADE_LEDGER__ENCRYPTION__MODE=aws:kms`` and
``TRADE_LEDGER__ENCRYPTION__KMS_KEY_ID=alias/ledger``. S3-compatible endpoints come from
boto3's own ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` (or ``TRADE_LEDGER__ENDPOINT_URL``);
credentials and region from boto3's usual chain.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.archive.keys import prefix_problems
from adapters.archive.limits import DocumentLimits
from adapters.archive.object_lock import ObjectLockSettings
from adapters.signing.settings import SigningSettings

EncryptionMode = Literal["AES256", "aws:kms", "aws:kms:dsse", "none"]


class EncryptionSettings(BaseModel):
    """Server-side encryption of archived objects: SSE-S3 (``AES256``) unless told otherwise."""

    mode: EncryptionMode = "AES256"
    kms_key_id: str | None = None
    bucket_key_enabled: bool | None = None

    @model_validator(mode="after")
    def _key_only_for_kms(self) -> EncryptionSettings:
        if self.kms_key_id and not self.mode.startswith("aws:kms"):
            raise ValueError("encryption.kms_key_id is only used with mode aws:kms or aws:kms:dsse")
        return self


class S3ClientSettings(BaseModel):
    """botocore's retry and timeout knobs for the archive's S3 client."""

    max_attempts: int = Field(default=5, ge=1, le=20)
    connect_timeout: float = Field(default=5.0, gt=0)
    read_timeout: float = Field(default=15.0, gt=0)
    max_pool_connections: int = Field(default=16, ge=1)


def normalise_prefix(value: str) -> str:
    """An archive key prefix without its outer slashes; ``ValueError`` if it is unsafe.

    The prefix is the first folder(s) of every key, and of the local archive's files: it
    must be plain ``/``-separated names (``trade-ledgers``, ``team/ledgers``), never an
    empty, ``.`` or ``..`` part, a backslash or a control character, which would leave the
    archive's folder or make keys the local archive cannot hold, and short enough that
    every key fits S3 and every path part a file system (``keys.prefix_problems``).
    ``""`` means no prefix.
    """
    prefix = value.strip("/")
    if not prefix:
        return ""
    problems = []
    if "\\" in prefix:
        problems.append("a backslash")
    if any(ord(char) < 32 or ord(char) == 127 for char in prefix):
        problems.append("a control character")
    bad_parts = sorted({part for part in prefix.split("/") if part in ("", ".", "..")})
    if bad_parts:
        shown = ", ".join(repr(part) if part else "an empty part ('//')" for part in bad_parts)
        problems.append(f"the path part(s) {shown}")
    problems.extend(prefix_problems(prefix))
    if problems:
        shown_value = value if len(value) <= 80 else f"{value[:80]}... ({len(value)} characters)"
        raise ValueError(
            f"archive prefix {shown_value!r} is not a plain folder path: it has "
            f"{' and '.join(problems)} (use short names separated by '/', e.g. "
            "'trade-ledgers' or 'team/ledgers')"
        )
    return prefix


_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def check_bucket_name(name: str) -> str:
    """S3's bucket naming rules (3-63 lower-case letters, digits, dots and hyphens), so a
    bad name is a settings error up front, not a botocore failure at the first request."""
    if not _BUCKET_NAME.fullmatch(name) or ".." in name:
        raise ValueError(
            f"bucket name {name!r} is not valid: 3-63 characters of a-z, 0-9, '.' and '-', "
            "starting and ending with a letter or digit"
        )
    return name


def check_endpoint_url(url: str) -> str:
    """An ``http(s)://host[:port]`` URL, as boto3 needs it."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"endpoint URL {url!r} is not an http:// or https:// URL with a host")
    try:
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        raise ValueError(f"endpoint URL {url!r} has an invalid port") from None
    return url


class ArchiveSettings(BaseSettings):
    """Where and how finished runs are archived.

    No ``bucket_name``: runs go to the local directory archive (the embedded default).
    ``enabled=False``: writes are skipped (status ``disabled``); reading still works.
    """

    model_config = SettingsConfigDict(
        env_prefix="TRADE_LEDGER__",
        env_nested_delimiter="__",
        case_sensitive=False,
        extra="ignore",
    )

    enabled: bool = True
    bucket_name: str | None = None
    prefix: str = "trade-ledgers"
    local_directory: Path = Path("trade-ledger-archive")
    outbox_directory: Path | None = None
    endpoint_url: str | None = None
    encryption: EncryptionSettings = Field(default_factory=EncryptionSettings)
    s3: S3ClientSettings = Field(default_factory=S3ClientSettings)
    signing: SigningSettings = Field(default_factory=SigningSettings)
    limits: DocumentLimits = Field(default_factory=DocumentLimits)
    """What one stored document may hold (``TRADE_LEDGER__LIMITS__MAX_BYTES``, ...)."""
    object_lock: ObjectLockSettings = Field(default_factory=ObjectLockSettings)
    """S3 Object Lock on every object written (``TRADE_LEDGER__OBJECT_LOCK__MODE``, ...)."""

    @field_validator("prefix")
    @classmethod
    def _safe_prefix(cls, value: str) -> str:
        return normalise_prefix(value)

    @model_validator(mode="after")
    def _normalise(self) -> ArchiveSettings:
        if self.bucket_name is not None and not self.bucket_name.strip():
            self.bucket_name = None
        if self.bucket_name is not None:
            check_bucket_name(self.bucket_name)
        if self.endpoint_url is not None and self.endpoint_url.strip():
            check_endpoint_url(self.endpoint_url)
        return self

    @property
    def outbox_path(self) -> Path:
        """Where documents wait when S3 is unreachable (default: ``<local_directory>/.outbox``)."""
        if self.outbox_directory is not None:
            return self.outbox_directory
        return self.local_directory / ".outbox"
