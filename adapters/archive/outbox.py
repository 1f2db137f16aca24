"""The local outbox: documents that could not be stored wait here, under their archive key.

Layout: ``<outbox>/pending/<key>`` for documents to push, ``<outbox>/conflicts/<key
without .json>.<sha256[:16]>.json`` for documents refused because a different document
holds their key (kept for a person; never pushed). Files are written atomically (a
temporary file renamed into place), so a crash leaves either the whole document or none.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from adapters.archive.files import UnreadableFileError, read_regular_file, safe_path, write_atomic


class Outbox:
    """A folder of documents waiting for their archive."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.pending_dir = self.directory / "pending"
        self.conflicts_dir = self.directory / "conflicts"

    def put(self, key: str, body: bytes) -> Path:
        """Keep ``body`` until it is pushed; an identical pending copy is reused.

        Raises ``FileExistsError`` when a *different* document already waits under ``key``
        (the caller keeps the new one with ``keep_conflict``).
        """
        path = safe_path(self.pending_dir, key)
        try:
            if read_regular_file(path, len(body)) == body:
                return path
        except FileNotFoundError:
            write_atomic(path, body, replace=True)
            return path
        except UnreadableFileError:  # larger than body, a FIFO, a folder: not this document
            pass
        raise FileExistsError(f"a different document for {key} already waits in {path}")

    def keep_conflict(self, key: str, body: bytes) -> Path:
        """Keep a document refused because another one holds its key."""
        digest = hashlib.sha256(body).hexdigest()[:16]
        stem = key[: -len(".json")] if key.endswith(".json") else key
        path = safe_path(self.conflicts_dir, f"{stem}.{digest}.json")
        write_atomic(path, body, replace=True)
        return path

    def pending(self) -> Iterator[tuple[str, Path]]:
        """(key, file) of every waiting document, in key order."""
        if not self.pending_dir.is_dir():
            return
        found: list[tuple[str, Path]] = []
        for folder, _dirs, files in os.walk(self.pending_dir):
            for name in files:
                if name.startswith("."):
                    continue  # temporary files of an interrupted write
                path = Path(folder) / name
                found.append((path.relative_to(self.pending_dir).as_posix(), path))
        yield from sorted(found)

    def count(self) -> int:
        return sum(1 for _ in self.pending())

    def remove(self, path: Path) -> None:
        """Forget a pushed document (another pusher may have removed it already)."""
        try:
            path.unlink()
        except FileNotFoundError:
            return
        # Tidy empty folders up to pending/ (ignore races with concurrent writers).
        parent = path.parent
        while parent != self.pending_dir and self.pending_dir in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent
