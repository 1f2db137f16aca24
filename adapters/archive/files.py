"""File-system helpers shared by the local archive and the outbox."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from adapters.archive.document import ArchiveError


class UnsafeKeyError(ArchiveError, ValueError):
    """A key that would leave its root directory (absolute, ``..``, backslashes, empty parts)."""


def safe_path(root: Path, key: str) -> Path:
    """``root / key`` for a relative key made of plain parts; ``UnsafeKeyError`` otherwise."""
    parts = key.split("/")
    if "\\" in key or "\x00" in key or any(part in ("", ".", "..") for part in parts):
        raise UnsafeKeyError(f"unsafe key {key!r}")
    return root.joinpath(*parts)


def write_atomic(path: Path, body: bytes, *, replace: bool) -> None:
    """Write ``body`` to ``path`` whole or not at all.

    With ``replace=False`` the write is exclusive: ``FileExistsError`` if ``path`` exists
    (a hard link publishes the finished temporary file, which never overwrites).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.parent / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp"
    with open(temporary, "xb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        if replace:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except (NotImplementedError, PermissionError):
                # File systems without hard links: exclusive create (not atomic, still once).
                with open(path, "xb") as handle:
                    handle.write(body)
    finally:
        if temporary.exists():
            temporary.unlink()
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
