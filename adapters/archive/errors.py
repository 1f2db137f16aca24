"""The storage errors adapters raise (here so the run log can use them without ``base``)."""

from __future__ import annotations

from adapters.archive.document import ArchiveError


class KeyExistsError(ArchiveError):
    """The write-once store already holds an object at this key."""


class StoreUnavailableError(ArchiveError):
    """The store could not be reached or refused the request (worth retrying later)."""


class StoreRefusedError(StoreUnavailableError):
    """The store refused this one document for good (access denied to its key, too large,
    ...): retrying will not help, but other documents may still go."""
