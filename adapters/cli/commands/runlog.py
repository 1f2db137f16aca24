"""``trade-ledger checkpoint | audit``: the run log for an auditor.

``checkpoint`` prints the newest signed checkpoint (``--json``: exactly the checkpoint, to
keep outside the archive). ``audit --since FILE`` proves the current log extends that
saved checkpoint and checks every run appended since, then prints the new checkpoint.
Exit 0 when everything holds, 1 when anything fails, 2 for usage errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from adapters.archive import ArchiveError
from adapters.archive.runlog.audit import AuditReport, audit
from adapters.archive.runlog.records import Checkpoint, LogRecordError, decode_checkpoint
from adapters.cli.common import (
    chosen_archive,
    err,
    out,
    print_json,
    progress_steps,
    trusted_keys_or_exit,
)
from adapters.cli.printable import printable

MAX_SAVED_CHECKPOINT_BYTES = 64 * 1024

ArchiveOption = Annotated[
    str | None,
    typer.Option(
        "--archive",
        "-a",
        help="Archive directory or s3://bucket\\[/prefix] (default: from TRADE_LEDGER__ settings).",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
TrustedOption = Annotated[
    Path | None,
    typer.Option(
        "--trusted-keys",
        help="Trusted-keys JSON file (default: TRADE_LEDGER__SIGNING__TRUSTED_KEYS, or "
        "trusted-keys.json in the user's config folder).",
    ),
]


def checkpoint(
    *,
    archive_location: ArchiveOption = None,
    trusted_keys: TrustedOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the run log's newest signed checkpoint (keep it outside the archive).

    Exit 1 when the archive has no log, or the checkpoint's signature is not trusted.
    """
    archive = chosen_archive(archive_location)
    trusted = trusted_keys_or_exit(trusted_keys)
    try:
        latest = archive.run_log.latest(from_cache=False)
    except (ArchiveError, LogRecordError) as error:
        err.print(printable(f"cannot read the run log of {archive.location}: {error}"), style="red")
        raise typer.Exit(1) from error
    if latest is None:
        err.print(f"{archive.location} has no run log yet (no run was logged)", style="red")
        raise typer.Exit(1)
    verdict = latest.check_signature(trusted)
    if as_json:
        print_json(latest.as_json())
    else:
        out.print(f"run log of {archive.location}")
        out.print(f"size {latest.size}  root {latest.root}  time {latest.time}")
        out.print(
            Text.assemble(
                f"signed by {printable(latest.key_id)} ({printable(latest.algorithm)}): ",
                (verdict.status, "green" if verdict.ok else "red"),
            )
        )
        out.print("save it with: trade-ledger checkpoint --json > checkpoint.json")
    if not verdict.ok:
        message = printable(f"{verdict.status}: {verdict.message}")
        err.print(f"the checkpoint's signature: {message}", style="red")
        raise typer.Exit(1)


def audit_log(
    *,
    since: Annotated[
        Path,
        typer.Option(
            "--since",
            help="A checkpoint saved earlier with 'trade-ledger checkpoint --json'.",
        ),
    ],
    archive_location: ArchiveOption = None,
    trusted_keys: TrustedOption = None,
    as_json: JsonOption = False,
    workers: Annotated[
        int, typer.Option("--workers", "-w", min=1, max=64, help="Reads in parallel.")
    ] = 8,
) -> None:
    """Prove the log extends a saved checkpoint and check every run appended since.

    Consistency proof from the saved checkpoint to the newest, every checkpoint between
    chained and signed, each new leaf's inclusion proof, its document's digest, signature
    and replay. Prints the new checkpoint. Exit 0 if all holds, 1 if anything fails.
    """
    saved = _saved_checkpoint(since)
    archive = chosen_archive(archive_location)
    trusted = trusted_keys_or_exit(trusted_keys)
    with progress_steps() as steps:
        report = audit(archive.run_log, saved, check=trusted, workers=workers, progress=steps)
    if as_json:
        print_json(report.as_dict())
    else:
        _print_report(report)
    if not report.ok:
        raise typer.Exit(1)


def _saved_checkpoint(path: Path) -> Checkpoint:
    """The auditor's checkpoint file; anything else is a usage error (exit 2)."""
    try:
        with open(path, "rb") as file:
            body = file.read(MAX_SAVED_CHECKPOINT_BYTES + 1)
    except OSError as error:
        message = f"cannot read {str(path)!r}: {error.strerror or error}"
        raise typer.BadParameter(message, param_hint="--since") from error
    try:
        return decode_checkpoint(body)
    except LogRecordError as error:
        message = f"{str(path)!r} is not a saved checkpoint: {error}"
        raise typer.BadParameter(message, param_hint="--since") from error


def _print_report(report: AuditReport) -> None:
    latest = report.state.checkpoint
    now = latest.size if latest is not None else 0
    out.print(f"saved checkpoint: size {report.since.size}  root {report.since.root}")
    out.print(f"log now:          size {now}  root {latest.root if latest else '-'}")
    for problem in report.problems:
        out.print(Text.assemble(("problem ", "red"), printable(problem)))
    bad = [run for run in report.runs if run["status"] != "valid"]
    for run in bad:
        details = "; ".join(f"{f['check']}: {f['message']}" for f in run["failures"])
        out.print(
            Text.assemble(
                (f"{run['status']:9s}", "red"), f" leaf {run['index']} {printable(run['key'])}"
            )
        )
        if details:
            out.print(f"          {printable(details)}")
    out.print(f"{len(report.runs)} run(s) appended since, {len(bad)} failed")
    out.print(Text("audit passed", style="green") if report.ok else Text("audit FAILED", "red"))
    if latest is not None:
        out.print("new checkpoint (keep it for the next audit):")
        print_json(latest.as_json())


def register(app: typer.Typer) -> None:
    """Add ``checkpoint`` and ``audit`` to ``app``."""
    app.command("checkpoint")(checkpoint)
    app.command("audit")(audit_log)
