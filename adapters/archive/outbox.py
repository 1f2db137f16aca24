"""The local outbox: documents that could not be stored wait here, under their archive key.

Layout (every file written atomically: a temporary file published by a hard link or a
rename, so a crash leaves either the whole document or none)::

    <outbox>/pending/<key>                      waiting to be pushed
    <outbox>/quarantine/<key>                   refused for good by the store (never pushed)
    <outbox>/reasons/<key>.txt                  why the quarantined document was refused
    <outbox>/conflicts/<key>/refused.<sha16>.json    refused: a different document holds <key>
    <outbox>/conflicts/<key>/archived.<sha16>.json   the archived document it met

Adding to ``pending/`` never replaces anything: the file is published with an exclusive
hard link, so of two different documents for one key added at once exactly one waits and
the other is refused (``FileExistsError``; the archive keeps it as a conflict). Conflicts
of older versions (``conflicts/<key stem>.<sha16>.json``, without the archived copy) are
still listed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from adapters.archive.files import UnreadableFileError, read_regular_file, safe_path, write_atomic

REFUSED = "refused"
ARCHIVED = "archived"


@dataclass(frozen=True)
class OutboxEntry:
    """One document the outbox holds, as ``outbox list`` shows it.

    ``state`` is ``pending`` (waits for a push), ``quarantined`` (refused for good, with
    ``reason``) or ``conflict`` (``path`` is the refused document, ``archived_path`` the
    archived one it met, when it was kept).
    """

    state: str
    key: str
    path: Path
    reason: str | None = None
    archived_path: Path | None = None


class Outbox:
    """A folder of documents waiting for their archive."""

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.pending_dir = self.directory / "pending"
        self.quarantine_dir = self.directory / "quarantine"
        self.reasons_dir = self.directory / "reasons"
        self.conflicts_dir = self.directory / "conflicts"

    # -- adding ---------------------------------------------------------------------------

    def put(self, key: str, body: bytes) -> Path:
        """Keep ``body`` until it is pushed; an identical pending copy is reused.

        Never replaces a file: raises ``FileExistsError`` when a *different* document (or
        anything that is not this document) already waits under ``key`` (the caller keeps
        the new one with ``keep_conflict``).
        """
        path = safe_path(self.pending_dir, key)
        for _attempt in range(3):
            try:
                write_atomic(path, body, replace=False)
                return path
            except FileExistsError:
                pass
            try:
                if read_regular_file(path, len(body)) == body:
                    return path
            except FileNotFoundError:
                continue  # pushed and removed since: add it again
            except UnreadableFileError:
                pass  # larger than body, a FIFO, a folder: not this document
            break
        raise FileExistsError(f"a different document for {key} already waits in {path}")

    def keep_conflict(self, key: str, body: bytes, archived: bytes | None = None) -> Path:
        """Keep a document refused because another one holds its key, and that other one.

        Returns the refused copy's path (``conflicts/<key>/refused.<sha16>.json``).
        """
        folder = safe_path(self.conflicts_dir, key)
        path = folder / f"{REFUSED}.{_digest(body)}.json"
        write_atomic(path, body, replace=True)
        if archived is not None:
            write_atomic(folder / f"{ARCHIVED}.{_digest(archived)}.json", archived, replace=True)
        return path

    def quarantine(self, key: str, path: Path, reason: str) -> Path:
        """Move a pending document the store refused for good out of the push's way."""
        target = safe_path(self.quarantine_dir, key)
        write_atomic(safe_path(self.reasons_dir, f"{key}.txt"), reason.encode(), replace=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
        _tidy(path.parent, self.pending_dir)
        return target

    # -- reading --------------------------------------------------------------------------

    def pending(self) -> Iterator[tuple[str, Path]]:
        """(key, file) of every waiting document, in key order."""
        yield from _files(self.pending_dir)

    def pending_path(self, key: str) -> Path:
        """Where ``key``'s document waits (whether or not it does)."""
        return safe_path(self.pending_dir, key)

    def count(self) -> int:
        return sum(1 for _ in self.pending())

    def quarantined(self) -> Iterator[OutboxEntry]:
        for key, path in _files(self.quarantine_dir):
            yield OutboxEntry("quarantined", key, path, reason=self._reason(key))

    def conflicts(self) -> Iterator[OutboxEntry]:
        """Every kept conflict, the archived copy beside it when there is one."""
        for relative, path in _files(self.conflicts_dir):
            folder, _, name = relative.rpartition("/")
            if name.startswith(f"{REFUSED}.") and folder:
                archived = sorted(path.parent.glob(f"{ARCHIVED}.*.json"))
                yield OutboxEntry(
                    "conflict", folder, path, archived_path=archived[0] if archived else None
                )
            elif not name.startswith(f"{ARCHIVED}."):  # the layout before archived copies
                stem = relative.removesuffix(".json").rpartition(".")[0] or relative
                yield OutboxEntry("conflict", f"{stem}.json", path)

    def entries(self) -> Iterator[OutboxEntry]:
        """Everything the outbox holds: pending, then quarantined, then conflicts."""
        for key, path in self.pending():
            yield OutboxEntry("pending", key, path)
        yield from self.quarantined()
        yield from self.conflicts()

    def _reason(self, key: str) -> str | None:
        try:
            return read_regular_file(safe_path(self.reasons_dir, f"{key}.txt"), 1 << 16).decode(
                errors="replace"
            )
        except (OSError, UnreadableFileError):
            return None

    # -- removing -------------------------------------------------------------------------

    def remove(self, path: Path) -> None:
        """Forget a pushed document (another pusher may have removed it already)."""
        try:
            path.unlink()
        except FileNotFoundError:
            return
        _tidy(path.parent, self.pending_dir)


def _digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:16]


def _files(root: Path) -> Iterator[tuple[str, Path]]:
    """(relative key, file) under ``root``, in key order, without temporary files."""
    if not root.is_dir():
        return
    found: list[tuple[str, Path]] = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if name.startswith("."):
                continue  # temporary files of an interrupted write
            path = Path(folder) / name
            found.append((path.relative_to(root).as_posix(), path))
    yield from sorted(found)


def _tidy(parent: Path, root: Path) -> None:
    """Remove empty folders up to ``root`` (ignoring races with concurrent writers)."""
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
