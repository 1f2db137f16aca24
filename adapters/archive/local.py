"""The local directory archive: the S3 layout under a folder, write-once through hard links.

``<directory>/<prefix>/YYYY/MM/DD/HHMMSS-<ledger>-<correlation>.json``: the same keys as the
bucket, so ``aws s3 sync`` in either direction gives an interchangeable archive.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

from adapters.archive.base import Archive
from adapters.archive.document import ArchiveReadError
from adapters.archive.errors import KeyExistsError, StoreRefusedError, StoreUnavailableError
from adapters.archive.files import (
    UnreadableFileError,
    UnsafeKeyError,
    read_regular_file,
    safe_path,
    write_atomic,
)
from adapters.archive.keys import RunRef, day_folder, parse_key
from adapters.archive.limits import DEFAULT_LIMITS, DocumentLimits
from adapters.archive.outbox import Outbox
from adapters.archive.port import WriteOutcome


class LocalDirectoryArchive(Archive):
    """Runs stored as files under ``directory``."""

    def __init__(
        self,
        directory: Path | str,
        *,
        prefix: str = "trade-ledgers",
        enabled: bool = True,
        outbox: Outbox | None = None,
        limits: DocumentLimits = DEFAULT_LIMITS,
    ) -> None:
        super().__init__(prefix=prefix, enabled=enabled, outbox=outbox, limits=limits)
        self.directory = Path(directory)

    @property
    def location(self) -> str:
        return str(self.directory)

    def url(self, key: str) -> str:
        return str(self.path(key))

    def path(self, key: str) -> Path:
        """The file of one key (``UnsafeKeyError`` for a key that would leave the folder)."""
        return safe_path(self.directory, key)

    def push_outbox(self) -> list[WriteOutcome]:
        """Push into an existing archive directory only; a missing one is never created here.

        Waiting documents belong to an archive that already exists: pushing them into a
        directory that is not there (a mistyped ``--archive``, an unmounted volume) would
        take them out of the outbox into a new, wrong archive. They stay, and one
        ``outboxed`` outcome says why (the push stops, as when a store is down).
        """
        problem = _not_an_archive(self.directory)
        if problem is None or self.outbox is None:
            return super().push_outbox()
        waiting = next(iter(self.outbox.pending()), None)
        if waiting is None:
            return []
        key, path = waiting
        message = f"{problem}: not pushed, the documents stay in the outbox"
        return [WriteOutcome("outboxed", key, str(path), error=message)]

    def _put_new(self, key: str, body: bytes) -> None:
        try:
            write_atomic(self.path(key), body, replace=False)
        except FileExistsError as error:
            raise KeyExistsError(key) from error
        except OSError as error:
            if error.errno in _REFUSED_FOR_GOOD:  # this key cannot be a file here
                raise StoreRefusedError(f"{self.url(key)}: {error}") from error
            raise StoreUnavailableError(f"{self.url(key)}: {error}") from error

    def _get(self, key: str) -> bytes:
        """A regular file of at most ``max_document_bytes``; anything else is unreadable.

        A FIFO, device, socket or directory at the key (or a symbolic link to one) is
        refused before a byte is read, without blocking.
        """
        try:
            return read_regular_file(self.path(key), self.max_document_bytes)
        except (UnsafeKeyError, UnreadableFileError) as error:
            raise ArchiveReadError(key, str(error)) from error
        except (FileNotFoundError, NotADirectoryError) as error:
            raise ArchiveReadError(key, f"no such run in {self.location}") from error
        except OSError as error:
            raise StoreUnavailableError(f"{self.url(key)}: {error}") from error

    def _iter_range(self, first: date, last: date, start_after: str | None) -> Iterator[RunRef]:
        try:
            yield from self._walk_range(first, last, start_after)
        except OSError as error:  # unreadable folders, names too long: an error, not a crash
            raise StoreUnavailableError(f"listing {self.location}: {error}") from error

    def _walk_range(self, first: date, last: date, start_after: str | None) -> Iterator[RunRef]:
        root = self.directory / self.prefix if self.prefix else self.directory
        low, high = day_folder(first), day_folder(last)
        for year in _subfolders(root, 4):
            if not low[:4] <= year <= high[:4]:
                continue
            for month in _subfolders(root / year, 2):
                if not low[:7] <= f"{year}/{month}" <= high[:7]:
                    continue
                for day in _subfolders(root / year / month, 2):
                    if not low <= f"{year}/{month}/{day}" <= high:
                        continue
                    yield from self._runs_in(root / year / month / day, start_after)

    def _runs_in(self, folder: Path, start_after: str | None) -> Iterator[RunRef]:
        """The day's runs: regular files named by the layout (links to them followed).

        Directories, FIFOs, devices and sockets (or links to them, or broken links) are
        skipped even when named like a run; reading such a key gives ``unreadable``.
        """
        try:
            entries = sorted((entry.name, entry) for entry in os.scandir(folder) if entry.is_file())
        except (FileNotFoundError, NotADirectoryError):
            return
        base = folder.relative_to(self.directory).as_posix()
        for name, entry in entries:
            key = f"{base}/{name}"
            if start_after is not None and key <= start_after:
                continue
            ref = parse_key(self.prefix, key)
            if ref is None:
                continue
            try:
                size: int | None = entry.stat().st_size
            except OSError:  # removed since the scan
                size = None
            yield replace(ref, size=size)


_REFUSED_FOR_GOOD = frozenset({errno.ENAMETOOLONG, errno.EISDIR})


def _not_an_archive(directory: Path) -> str | None:
    """Why ``directory`` cannot take pushed documents, or ``None`` if it can."""
    if directory.is_dir():
        return None
    if directory.exists():
        return f"archive location {str(directory)!r} is not a directory"
    return f"archive directory {str(directory)!r} does not exist (create it if it is the archive)"


def _subfolders(folder: Path, width: int) -> list[str]:
    """Sorted names of ``folder``'s sub-folders that are ``width`` digits."""
    try:
        return sorted(
            entry.name
            for entry in os.scandir(folder)
            if entry.is_dir()
            and len(entry.name) == width
            and entry.name.isascii()
            and entry.name.isdigit()
        )
    except (FileNotFoundError, NotADirectoryError):
        return []
