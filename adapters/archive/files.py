"""File-system helpers shared by the local archive and the outbox."""

from __future__ import annotations

import errno
import os
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

from adapters.archive.document import ArchiveError


class UnsafeKeyError(ArchiveError, ValueError):
    """A key that would leave its root directory (absolute, ``..``, backslashes, empty parts)."""


class UnreadableFileError(ArchiveError):
    """A file that is not read: not a regular file, or larger than the cap."""


READ_CHUNK = 1 << 20


def read_at_most(read: Callable[[int], bytes], limit: int, expected: int | None = None) -> bytes:
    """At most ``limit + 1`` bytes from ``read`` (so a caller can tell "more than ``limit``").

    ``expected`` (a size from ``fstat`` or ``ContentLength``) sizes the first read, so a
    document of the expected size is one read; memory never exceeds ``limit + 1`` bytes
    plus one chunk, whatever the source holds.
    """
    chunks: list[bytes] = []
    total = 0
    want = min(expected, limit) + 1 if expected is not None else READ_CHUNK
    while total <= limit:
        chunk = read(max(1, min(want, limit + 1 - total)))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        want = READ_CHUNK
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def too_large(limit: int) -> str:
    return f"larger than {limit} bytes (the archive's read cap); not read"


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (symbolic links followed).

    The file is opened non-blocking and checked with ``fstat`` before anything is read, so
    a FIFO never blocks and a device (``/dev/zero``) is never read: ``UnreadableFileError``
    for those, for directories and sockets, and for a file larger than ``limit`` (read at
    most ``limit + 1`` bytes). ``OSError`` (``FileNotFoundError``, ...) as ``os.open``.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        descriptor = os.open(path, flags)
    except IsADirectoryError as error:
        raise UnreadableFileError(f"{path}: not a regular file (a directory)") from error
    except OSError as error:
        if error.errno == errno.ENXIO:  # a socket, or a device with nothing behind it
            raise UnreadableFileError(f"{path}: not a regular file") from error
        raise
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            kind = _KINDS.get(stat.S_IFMT(info.st_mode), "a special file")
            raise UnreadableFileError(f"{path}: not a regular file ({kind})")
        if info.st_size > limit:
            raise UnreadableFileError(f"{path}: {too_large(limit)}")
        body = read_at_most(lambda size: os.read(descriptor, size), limit, info.st_size)
    finally:
        os.close(descriptor)
    if len(body) > limit:  # grew after the fstat
        raise UnreadableFileError(f"{path}: {too_large(limit)}")
    return body


_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


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
    # The name is cut so the temporary file's name fits a path part wherever ``path``'s does.
    temporary = path.parent / f".{path.name[:100]}.{uuid.uuid4().hex}.tmp"
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
