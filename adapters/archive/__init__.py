"""The run archive: write-once JSON documents per run, in S3 or a local directory.

Entry points::

    archive = archive_from_settings()          # from TRADE_LEDGER__* settings
    outcome = archive.write(service.events())  # never raises; outcome.status says what happened
    for run in archive.read_runs(date(2024, 1, 15)):   # every run of a day, typed
        ...
    archive = open_archive("s3://bucket/prefix")       # or a directory path
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from adapters.archive.base import Archive, RunPage, RunRead
from adapters.archive.document import (
    FORMAT_VERSION,
    GENESIS_HASH,
    ArchivedRun,
    ArchiveError,
    ArchiveReadError,
    OpenLedgerError,
    canonical_json,
    chain_hash,
    decode_run,
    encode_run,
)
from adapters.archive.errors import KeyExistsError, StoreRefusedError, StoreUnavailableError
from adapters.archive.files import UnsafeKeyError
from adapters.archive.keys import RunRef, run_key, safe_id
from adapters.archive.limits import DocumentLimits
from adapters.archive.local import LocalDirectoryArchive
from adapters.archive.object_lock import ObjectLockSettings, Retention
from adapters.archive.outbox import Outbox, OutboxEntry
from adapters.archive.port import RunArchive, WriteOutcome, WriteStatus
from adapters.archive.s3 import S3Archive, parse_s3_url
from adapters.archive.settings import ArchiveSettings, EncryptionSettings, S3ClientSettings
from adapters.archive.verify import Failure, RunVerification, verify_document
from adapters.signing.configured import signer_from_settings


def archive_from_settings(settings: ArchiveSettings | None = None) -> Archive:
    """The configured archive: S3 when a bucket is set, else the local directory.

    ``TRADE_LEDGER__ENABLED=false`` gives an archive whose ``write`` returns ``disabled``
    (reading still works). Creating it does no I/O.
    """
    settings = settings if settings is not None else ArchiveSettings()
    if settings.bucket_name:
        return _s3_archive(settings, settings.bucket_name, settings.prefix)
    return _local_archive(settings, settings.local_directory)


def open_archive(location: str, settings: ArchiveSettings | None = None) -> Archive:
    """The archive at ``PATH`` or ``s3://bucket[/prefix]`` (other options from settings).

    An ``s3://bucket`` without a prefix uses the settings' prefix (``trade-ledgers``).
    """
    settings = settings if settings is not None else ArchiveSettings()
    if location.startswith("s3://"):
        bucket, prefix = parse_s3_url(location)
        return _s3_archive(settings, bucket, settings.prefix if prefix is None else prefix)
    if "://" in location:
        raise ValueError(f"unsupported archive location {location!r}: use a path or s3://")
    return _local_archive(settings, Path(location))


def _s3_archive(settings: ArchiveSettings, bucket: str, prefix: str) -> S3Archive:
    return _with_signing(
        settings,
        S3Archive(
            bucket,
            prefix=prefix,
            enabled=settings.enabled,
            outbox=Outbox(settings.outbox_path),
            encryption=settings.encryption,
            client_settings=settings.s3,
            endpoint_url=settings.endpoint_url,
            limits=settings.limits,
            object_lock=settings.object_lock,
        ),
    )


def _local_archive(settings: ArchiveSettings, directory: Path) -> LocalDirectoryArchive:
    return _with_signing(
        settings,
        LocalDirectoryArchive(
            directory,
            prefix=settings.prefix,
            enabled=settings.enabled,
            outbox=Outbox(settings.outbox_path),
            limits=settings.limits,
        ),
    )


A = TypeVar("A", bound=Archive)


def _with_signing(settings: ArchiveSettings, archive: A) -> A:
    """The settings' signer (loaded on first write) and trusted keys (read on first verify)."""
    archive.signer = signer_from_settings(settings.signing)
    archive.trusted_keys_path = settings.signing.trusted_keys_path
    return archive


__all__ = [
    "FORMAT_VERSION",
    "GENESIS_HASH",
    "Archive",
    "ArchiveError",
    "ArchiveReadError",
    "ArchiveSettings",
    "ArchivedRun",
    "DocumentLimits",
    "EncryptionSettings",
    "Failure",
    "KeyExistsError",
    "LocalDirectoryArchive",
    "ObjectLockSettings",
    "OpenLedgerError",
    "Outbox",
    "OutboxEntry",
    "Retention",
    "RunArchive",
    "RunPage",
    "RunRead",
    "RunRef",
    "RunVerification",
    "S3Archive",
    "S3ClientSettings",
    "StoreRefusedError",
    "StoreUnavailableError",
    "UnsafeKeyError",
    "WriteOutcome",
    "WriteStatus",
    "archive_from_settings",
    "canonical_json",
    "chain_hash",
    "decode_run",
    "encode_run",
    "open_archive",
    "run_key",
    "safe_id",
    "verify_document",
]
