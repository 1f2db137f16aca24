"""Log appends that failed: the run is archived, its leaf waits here to be appended later.

``<outbox>/log-pending/<sha256(key)[:32]>.json`` holds the leaf's canonical bytes, written
atomically. ``Archive.write`` (after a successful write) and ``push_outbox`` retry them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from adapters.archive.files import UnreadableFileError, read_regular_file, write_atomic
from adapters.archive.runlog.records import MAX_RECORD_BYTES, LogEntry, LogRecordError, decode_entry


class PendingAppends:
    """A folder of log entries waiting for their append."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)

    def path(self, entry: LogEntry) -> Path:
        name = hashlib.sha256(entry.key.encode("utf-8")).hexdigest()[:32]
        return self.directory / f"{name}.json"

    def add(self, entry: LogEntry) -> Path:
        path = self.path(entry)
        write_atomic(path, entry.encode(), replace=True)
        return path

    def entries(self) -> Iterator[tuple[Path, LogEntry | None]]:
        """(file, entry) of each waiting append, oldest first; ``None`` for a bad file."""
        try:
            found = [e for e in os.scandir(self.directory) if not e.name.startswith(".")]
        except (FileNotFoundError, NotADirectoryError):
            return
        found.sort(key=_age)
        for item in found:
            path = Path(item.path)
            try:
                yield path, decode_entry(read_regular_file(path, MAX_RECORD_BYTES))
            except FileNotFoundError:
                continue  # appended by another process meanwhile
            except (UnreadableFileError, LogRecordError, OSError):
                yield path, None

    def count(self) -> int:
        return sum(1 for _ in self.entries())

    def remove(self, path: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def _age(entry: os.DirEntry[str]) -> tuple[float, str]:
    try:
        return entry.stat().st_mtime, entry.name
    except OSError:
        return 0.0, entry.name
