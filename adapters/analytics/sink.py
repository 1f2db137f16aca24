"""Where an export's files go: a local directory or ``s3://bucket/prefix``, write-once.

A file is written whole or not at all and never replaced (a hard link publishes a local
file; S3 gets ``put_object(IfNoneMatch="*")`` with a SHA-256 checksum and the archive's
server-side encryption settings), so exporting again writes nothing new and two exports
racing each other cannot leave a half-written file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from adapters.archive import ArchiveSettings, S3Archive, open_archive
from adapters.archive.files import safe_path, write_atomic
from adapters.archive.s3 import parse_s3_url
from adapters.archive.settings import normalise_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class SinkError(Exception):
    """The destination could not be listed or written."""


class Sink(Protocol):
    """A write-once file tree."""

    @property
    def location(self) -> str:
        """Where the tree is (a directory or ``s3://bucket/prefix``)."""
        ...

    def create(self) -> None:
        """Make the tree's root exist (an empty export is still an export to query)."""
        ...

    def names(self, folder: str) -> set[str]:
        """The file names directly in ``folder`` (empty if there is none)."""
        ...

    def put(self, path: str, body: bytes) -> bool:
        """Write ``body`` at ``path`` unless a file is there: True if written."""
        ...


class LocalSink:
    """Files under a directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def location(self) -> str:
        return str(self.directory)

    def create(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise SinkError(f"cannot create {self.directory}: {error}") from error

    def names(self, folder: str) -> set[str]:
        try:
            with os.scandir(safe_path(self.directory, folder)) as entries:
                return {entry.name for entry in entries if entry.is_file()}
        except (FileNotFoundError, NotADirectoryError):
            return set()
        except OSError as error:
            raise SinkError(f"cannot list {self.directory / folder}: {error}") from error

    def put(self, path: str, body: bytes) -> bool:
        try:
            write_atomic(safe_path(self.directory, path), body, replace=False)
        except FileExistsError:
            return False
        except OSError as error:
            raise SinkError(f"cannot write {self.directory / path}: {error}") from error
        return True


class S3Sink:
    """Objects under a bucket's prefix, through the archive's client and encryption."""

    def __init__(self, archive: S3Archive) -> None:
        self.archive = archive
        self.bucket = archive.bucket
        self.prefix = archive.prefix

    @property
    def location(self) -> str:
        return self.archive.location

    def create(self) -> None:
        """Nothing to make: a prefix exists as soon as an object is under it."""

    @property
    def client(self) -> S3Client:
        return self.archive.client

    def _key(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def names(self, folder: str) -> set[str]:
        prefix = self._key(folder).rstrip("/") + "/"
        names: set[str] = set()
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"
            )
            for page in pages:
                names.update(item["Key"][len(prefix) :] for item in page.get("Contents", []))
        except (ClientError, BotoCoreError) as error:
            raise SinkError(f"cannot list s3://{self.bucket}/{prefix}: {error}") from error
        return names

    def put(self, path: str, body: bytes) -> bool:
        key = self._key(path)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                IfNoneMatch="*",
                ChecksumAlgorithm="SHA256",
                ContentType="application/vnd.apache.parquet",
                **self.archive._encryption_args(),
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409"):
                return False
            raise SinkError(f"cannot write s3://{self.bucket}/{key}: {error}") from error
        except BotoCoreError as error:
            raise SinkError(f"cannot write s3://{self.bucket}/{key}: {error}") from error
        return True


def open_sink(destination: str, settings: ArchiveSettings | None = None) -> Sink:
    """The sink at a directory path or ``s3://bucket[/prefix]`` (S3 options from settings).

    A local directory is created on the first write; ``ValueError`` for anything else
    that is not a path or an ``s3://`` location.
    """
    if destination.startswith("s3://"):
        bucket, prefix = parse_s3_url(destination)
        settings = settings if settings is not None else ArchiveSettings()
        archive = open_archive(f"s3://{bucket}", settings)
        assert isinstance(archive, S3Archive)
        archive.prefix = normalise_prefix(prefix or "")
        return S3Sink(archive)
    if "://" in destination:
        raise ValueError(f"unsupported destination {destination!r}: use a path or s3://")
    return LocalSink(Path(destination))
