"""What several command groups share: the consoles, the archive opener, JSON output.

Not a command module: it registers nothing, and command modules import it (never each
other).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from adapters.archive import (
    Archive,
    ArchiveSettings,
    LocalDirectoryArchive,
    WriteOutcome,
    archive_from_settings,
    open_archive,
)
from adapters.archive.runlog.audit import Steps
from adapters.signing import TrustedKeys, TrustedKeysError

ARCHIVE_HINT = "--archive / TRADE_LEDGER__*"

# markup=False: keys, ids, errors and event fields come from documents and from the user
# (``--key '[/]x'``); as rich markup they could crash the command or restyle the output.
# Styles are given as ``style=`` / ``Text`` instead; emoji codes (``:x:``) stay text too.
out = Console(highlight=False, soft_wrap=True, markup=False, emoji=False)
err = Console(stderr=True, highlight=False, markup=False, emoji=False)


def archive_settings() -> ArchiveSettings:
    """The ``TRADE_LEDGER__*`` settings; invalid ones are a usage error (exit 2)."""
    try:
        return ArchiveSettings()
    except ValidationError as error:
        raise typer.BadParameter(str(error), param_hint=ARCHIVE_HINT) from error


def chosen_archive(location: str | None, *, must_exist: bool = True) -> Archive:
    """The chosen archive; a usage error (exit 2) for bad settings or a missing directory.

    A local archive that is read (``list``/``show``/``verify``/``reconcile``) must be an
    existing directory: a mistyped path is an error, not an archive without runs.
    """
    settings = archive_settings()
    try:
        archive = (
            archive_from_settings(settings)
            if location is None
            else open_archive(location, settings)
        )
    except (ValidationError, ValueError) as error:
        raise typer.BadParameter(str(error), param_hint=ARCHIVE_HINT) from error
    if must_exist and isinstance(archive, LocalDirectoryArchive):
        directory = archive.directory
        if not directory.exists():
            message = f"archive directory {str(directory)!r} does not exist"
            raise typer.BadParameter(message, param_hint=ARCHIVE_HINT)
        if not directory.is_dir():
            message = f"archive location {str(directory)!r} is not a directory"
            raise typer.BadParameter(message, param_hint=ARCHIVE_HINT)
    return archive


def store_settings() -> Any:
    """The ``TRADE_LEDGER__STORE__*`` event store settings; invalid ones are a usage error."""
    from adapters.store import EventStoreSettings  # noqa: PLC0415

    try:
        return EventStoreSettings()
    except ValidationError as error:
        raise typer.BadParameter(str(error), param_hint="TRADE_LEDGER__STORE__*") from error


def print_json(value: Any) -> None:
    """One JSON document on stdout, nothing else.

    A lone surrogate (a file name that is not UTF-8) is written as its JSON escape
    (``\\udcff``), so the output stays valid UTF-8 JSON instead of failing to print.
    """
    text = json.dumps(value, indent=2, ensure_ascii=False)
    if not text.isascii():
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    out.out(text, highlight=False)


def outcome_json(outcome: WriteOutcome) -> dict[str, Any]:
    """An archive write's outcome as JSON."""
    return {
        "status": outcome.status,
        "key": outcome.key,
        "location": outcome.location,
        "error": outcome.error,
    }


@contextmanager
def progress_steps(quiet: bool = False) -> Iterator[Steps | None]:
    """Progress bars on stderr, one per long step (``Steps``), or ``None`` when quiet."""
    if quiet:
        yield None
        return
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:

        def step(label: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(label, total=total)
            return lambda done: progress.advance(task, done)

        yield step


def trusted_keys_or_exit(path: Path | None) -> TrustedKeys:
    """The trusted keys of ``path`` (default: the settings'); a bad file is a usage error."""
    chosen = path if path is not None else archive_settings().signing.trusted_keys_path
    try:
        return TrustedKeys.load(chosen) if path is not None else TrustedKeys.load_if_present(chosen)
    except TrustedKeysError as error:
        raise typer.BadParameter(str(error), param_hint="--trusted-keys") from error
