"""The S3 archive: one conditional PUT per run, listing through the paginator.

Write-once: ``put_object(IfNoneMatch="*")`` with a SHA-256 checksum and server-side
encryption (SSE-S3 unless configured otherwise). S3 answers 412 ``PreconditionFailed``
when the key exists (409 ``ConditionalRequestConflict`` while a concurrent write of it is
in flight, retried); the archive then compares the stored bytes. Retries and timeouts are
botocore's own (``standard`` mode). Endpoints of S3-compatible servers come from boto3's
``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` or the ``endpoint_url`` argument.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from adapters.archive.base import Archive
from adapters.archive.document import ArchiveReadError
from adapters.archive.errors import KeyExistsError, StoreRefusedError, StoreUnavailableError
from adapters.archive.files import read_at_most, too_large
from adapters.archive.keys import RunRef, parse_key, range_listing
from adapters.archive.limits import DEFAULT_LIMITS, DocumentLimits
from adapters.archive.object_lock import ObjectLockSettings, Retention
from adapters.archive.outbox import Outbox
from adapters.archive.settings import EncryptionSettings, S3ClientSettings, check_bucket_name

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_EXISTS = frozenset({"PreconditionFailed", "412"})
_IN_FLIGHT = frozenset({"ConditionalRequestConflict", "409"})
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
CONFLICT_RETRIES = 3
_WHOLE_STORE = frozenset(
    {
        "NoSuchBucket",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "TokenRefreshRequired",
        "RequestTimeTooSkewed",
        "AccountProblem",
        "AllAccessDisabled",
        "PermanentRedirect",
        "AuthorizationHeaderMalformed",
        "RequestTimeout",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "TooManyRequests",
    }
)
"""Client errors that concern the whole store or the moment, not one document: retried."""


class S3Archive(Archive):
    """Runs stored as objects in ``bucket`` under ``prefix``."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "trade-ledgers",
        enabled: bool = True,
        outbox: Outbox | None = None,
        encryption: EncryptionSettings | None = None,
        client_settings: S3ClientSettings | None = None,
        endpoint_url: str | None = None,
        client: S3Client | None = None,
        limits: DocumentLimits = DEFAULT_LIMITS,
        object_lock: ObjectLockSettings | None = None,
    ) -> None:
        super().__init__(prefix=prefix, enabled=enabled, outbox=outbox, limits=limits)
        self.bucket = bucket
        self.object_lock = object_lock if object_lock is not None else ObjectLockSettings()
        """Retention put on every object written (documents, log leaves, checkpoints)."""
        self.encryption = encryption if encryption is not None else EncryptionSettings()
        self.client_settings = (
            client_settings if client_settings is not None else S3ClientSettings()
        )
        self.endpoint_url = endpoint_url
        self._client = client
        self._client_lock = threading.Lock()

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    @property
    def client(self) -> S3Client:
        """The boto3 client, made on first use (a client costs tens of milliseconds)."""
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    settings = self.client_settings
                    config = Config(
                        retries={"mode": "standard", "max_attempts": settings.max_attempts},
                        connect_timeout=settings.connect_timeout,
                        read_timeout=settings.read_timeout,
                        max_pool_connections=settings.max_pool_connections,
                    )
                    session = boto3.session.Session()
                    self._client = session.client(
                        "s3", endpoint_url=self.endpoint_url or None, config=config
                    )
        return self._client

    def _encryption_args(self) -> dict[str, Any]:
        mode = self.encryption.mode
        if mode == "none":
            return {}
        args: dict[str, Any] = {"ServerSideEncryption": mode}
        if self.encryption.kms_key_id:
            args["SSEKMSKeyId"] = self.encryption.kms_key_id
        if self.encryption.bucket_key_enabled is not None:
            args["BucketKeyEnabled"] = self.encryption.bucket_key_enabled
        return args

    def _put_new(self, key: str, body: bytes) -> None:
        for attempt in range(CONFLICT_RETRIES + 1):
            try:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    IfNoneMatch="*",
                    ChecksumAlgorithm="SHA256",
                    ContentType="application/json",
                    **self._encryption_args(),
                    **self.object_lock.put_args(),
                )
                return
            except ClientError as error:
                code = _code(error)
                if code in _EXISTS:
                    raise KeyExistsError(key) from error
                if code in _IN_FLIGHT and attempt < CONFLICT_RETRIES:
                    time.sleep(0.2 * (attempt + 1))  # another write of this key is in flight
                    continue
                if code in _IN_FLIGHT:
                    raise KeyExistsError(key) from error
                if _refuses_for_good(error):
                    raise StoreRefusedError(f"{self.url(key)}: {error}") from error
                raise StoreUnavailableError(f"{self.url(key)}: {error}") from error
            except BotoCoreError as error:
                raise StoreUnavailableError(f"{self.url(key)}: {error}") from error

    def retention(self, key: str) -> Retention | None:
        """The Object Lock on the current version of ``key`` (``None``: not locked)."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as error:
            if _code(error) in _MISSING:
                raise ArchiveReadError(key, f"no such run in {self.location}") from error
            raise StoreUnavailableError(f"{self.url(key)}: {error}") from error
        except BotoCoreError as error:
            raise StoreUnavailableError(f"{self.url(key)}: {error}") from error
        mode, until = head.get("ObjectLockMode"), head.get("ObjectLockRetainUntilDate")
        if mode is None or until is None:
            return None
        hold = head.get("ObjectLockLegalHoldStatus") == "ON"
        return Retention(str(mode), until, hold)

    def _get(self, key: str) -> bytes:
        """The object's bytes, at most ``max_document_bytes``: a larger one is unreadable.

        ``ContentLength`` is checked before the body is read, and the body is read to at
        most one byte past the cap whatever the header said.
        """
        limit = self.max_document_bytes
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
            stream = response["Body"]
            try:
                length = response.get("ContentLength")
                if length is not None and length > limit:
                    raise ArchiveReadError(key, f"{length} bytes, {too_large(limit)}")
                body = read_at_most(stream.read, limit, length)
                if len(body) > limit:
                    raise ArchiveReadError(key, too_large(limit))
                return body
            finally:
                stream.close()
        except ClientError as error:
            if _code(error) in _MISSING:
                raise ArchiveReadError(key, f"no such run in {self.location}") from error
            raise StoreUnavailableError(f"{self.url(key)}: {error}") from error
        except BotoCoreError as error:
            raise StoreUnavailableError(f"{self.url(key)}: {error}") from error

    def _iter_range(self, first: date, last: date, start_after: str | None) -> Iterator[RunRef]:
        list_prefix, range_start = range_listing(self.prefix, first, last)
        after = max(range_start, start_after) if start_after else range_start
        paginator = self.client.get_paginator("list_objects_v2")
        pages = paginator.paginate(
            Bucket=self.bucket,
            Prefix=list_prefix,
            StartAfter=after,
            PaginationConfig={"PageSize": 1000},
        )
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    ref = parse_key(self.prefix, item["Key"])
                    if ref is None or ref.day < first:
                        continue
                    if ref.day > last:
                        return
                    yield RunRef(
                        key=ref.key,
                        day=ref.day,
                        time=ref.time,
                        ledger_id=ref.ledger_id,
                        correlation_id=ref.correlation_id,
                        size=item.get("Size"),
                    )
        except ClientError as error:
            raise StoreUnavailableError(f"listing {self.location}: {error}") from error
        except BotoCoreError as error:
            raise StoreUnavailableError(f"listing {self.location}: {error}") from error


def _code(error: ClientError) -> str:
    response: Any = error.response
    code = str(response.get("Error", {}).get("Code", ""))
    status = str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    return code if code else status


def _refuses_for_good(error: ClientError) -> bool:
    """A 4xx answer about this request (access denied to the key, too large, a bad
    argument), not about the store as a whole or the moment (see ``_WHOLE_STORE``)."""
    response: Any = error.response
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = str(response.get("Error", {}).get("Code", ""))
    return (
        isinstance(status, int)
        and 400 <= status < 500
        and status != 429
        and (code not in _WHOLE_STORE)
    )


def parse_s3_url(location: str) -> tuple[str, str | None]:
    """(bucket, prefix or ``None``) of ``s3://bucket[/prefix]``."""
    if not location.startswith("s3://"):
        raise ValueError(f"not an s3:// location: {location!r}")
    rest = location[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"no bucket in {location!r}")
    check_bucket_name(bucket)
    prefix = prefix.strip("/")
    return bucket, prefix or None
