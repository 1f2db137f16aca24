"""Reading the whole log back and judging it: the state of the log, a period's set check,
and the audit of everything appended since a checkpoint an auditor kept.

- ``load_log``: the newest checkpoint and every leaf; the leaves must fold to the
  checkpoint's root (a deleted, edited or inserted leaf does not), its signature checked
  when a ``SignatureCheck`` is given.
- ``check_period``: the runs the archive lists for a day or range against the leaves
  whose keys fall in it: a logged run that is gone is ``missing``, a document the log
  does not know is ``unlogged``, a document whose bytes differ from the logged digest is
  ``invalid`` (check ``log``).
- ``audit``: the current log extends the saved checkpoint (RFC 6962 consistency proof),
  the checkpoints since follow one another, and each leaf added since is in the tree
  (inclusion proof) and names a document with its digest that verifies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

from adapters.archive.document import ArchiveError, ArchiveReadError
from adapters.archive.keys import parse_key
from adapters.archive.runlog.merkle import (
    MerkleTree,
    ProofError,
    verify_consistency,
    verify_inclusion,
)
from adapters.archive.runlog.records import Checkpoint, LogEntry, LogRecordError
from adapters.archive.runlog.store import RunLog
from adapters.archive.verify import Failure, RunVerification, verify_document
from adapters.signing.trusted import TrustedKeys

if TYPE_CHECKING:
    from adapters.archive.base import Archive

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int], None]
"""Told how many items of the current step were done since the last call."""
Steps = Callable[[str, int], Progress]
"""Gives the ``Progress`` of each long step from its label and total."""
Judge = Callable[[str, bytes], RunVerification]
"""Verifies one document's bytes (``verify_document`` by default)."""


@dataclass
class LogState:
    """The log as read now: its newest checkpoint, its leaves, and what is wrong with it."""

    checkpoint: Checkpoint | None
    entries: list[LogEntry | None]
    tree: MerkleTree | None
    problems: list[str] = field(default_factory=list)
    signature: str | None = None
    """The newest checkpoint's signature status (``None``: not checked)."""

    @property
    def size(self) -> int:
        return self.checkpoint.size if self.checkpoint is not None else 0

    @property
    def exists(self) -> bool:
        return self.checkpoint is not None or bool(self.problems)

    def as_dict(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "root": self.checkpoint.root if self.checkpoint is not None else None,
            "time": self.checkpoint.time if self.checkpoint is not None else None,
            "signature": self.signature,
            "problems": list(self.problems),
        }


def load_log(
    log: RunLog,
    *,
    check: TrustedKeys | None = None,
    workers: int = 8,
    progress: Steps | None = None,
) -> LogState:
    """Read the newest checkpoint and every leaf; problems are listed, never raised."""
    try:
        checkpoint = log.latest(from_cache=False)
    except (ArchiveError, LogRecordError) as error:
        return LogState(None, [], None, [f"the newest checkpoint cannot be read: {error}"])
    if checkpoint is None:
        state = LogState(None, [], None)
        if _readable(log, 0):
            state.problems.append(f"{log.leaf_key(0)} exists but no checkpoint does")
        return state
    state = LogState(checkpoint, [], None)
    if check is not None:
        verdict = checkpoint.check_signature(check)
        state.signature = verdict.status
        if not verdict.ok:
            state.problems.append(
                f"checkpoint {checkpoint.size} signature: {verdict.status}: {verdict.message}"
            )
    step = progress("reading the run log", checkpoint.size) if progress is not None else None
    state.entries = list(_read_entries(log, range(checkpoint.size), workers, step, state))
    if _readable(log, checkpoint.size):
        state.problems.append(
            f"{log.leaf_key(checkpoint.size)} exists beyond the newest checkpoint "
            f"(an append in progress, or one whose checkpoint was removed)"
        )
    if all(entry is not None for entry in state.entries):
        tree = MerkleTree([entry.leaf_hash for entry in state.entries if entry is not None])
        if tree.root().hex() != checkpoint.root:
            state.problems.append(
                f"the {checkpoint.size} leaves do not give checkpoint {checkpoint.size}'s root: "
                "a leaf was edited, replaced or the checkpoint rewritten"
            )
        else:
            state.tree = tree
    return state


def _read_entries(
    log: RunLog,
    indexes: range,
    workers: int,
    progress: Progress | None,
    state: LogState,
) -> Iterator[LogEntry | None]:
    def read(index: int) -> LogEntry | str:
        try:
            return log.read_entry(index)
        except ArchiveReadError as error:
            return f"leaf {index} cannot be read: {error.reason}"
        except (ArchiveError, LogRecordError) as error:
            return f"leaf {index} is not a log leaf: {error}"

    results: Iterable[LogEntry | str]
    if workers > 1 and len(indexes) > 1:
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="runlog")
        results = pool.map(read, indexes)
    else:
        pool = None
        results = map(read, indexes)
    try:
        for result in results:
            if progress is not None:
                progress(1)
            if isinstance(result, str):
                state.problems.append(result)
                yield None
            else:
                yield result
    finally:
        if pool is not None:
            pool.shutdown()


def _readable(log: RunLog, index: int) -> bool:
    try:
        log.read_entry(index)
    except (ArchiveError, LogRecordError):
        return False
    return True


# -- a day or a range -----------------------------------------------------------------


def logged_in_period(state: LogState, prefix: str, first: date, last: date) -> dict[str, list[int]]:
    """Leaf indexes by key, for the leaves whose keys fall on ``first``..``last``."""
    found: dict[str, list[int]] = {}
    for index, entry in enumerate(state.entries):
        if entry is None:
            continue
        ref = parse_key(prefix, entry.key)
        if ref is not None and first <= ref.day <= last:
            found.setdefault(entry.key, []).append(index)
    return found


def check_period(
    state: LogState,
    prefix: str,
    first: date,
    last: date,
    verdicts: Iterable[tuple[RunVerification, str | None]],
) -> list[RunVerification]:
    """The period's verdicts with the set check applied, plus one per ``missing`` run.

    ``verdicts`` pairs each listed run's verdict with the SHA-256 of the bytes verified
    (``None`` when they could not be read).
    """
    logged = logged_in_period(state, prefix, first, last)
    judged: list[RunVerification] = []
    for verdict, digest in verdicts:
        indexes = logged.pop(verdict.key, [])
        judged.append(_against_log(state, verdict, digest, indexes))
    for key, indexes in logged.items():
        message = (
            f"logged at leaf {indexes[0]} but not in the archive: the run was deleted or moved"
        )
        judged.append(RunVerification(key, "missing", (Failure("log", message),)))
    judged.sort(key=lambda verdict: verdict.key)
    return judged


def _against_log(
    state: LogState, verdict: RunVerification, digest: str | None, indexes: list[int]
) -> RunVerification:
    if not indexes:
        message = f"not in the run log ({state.size} leaves): appended later, or never"
        status = "unlogged" if verdict.status in ("valid", "unverifiable") else verdict.status
        failures = (*verdict.failures, Failure("log", message))
        return replace(verdict, status=status, failures=failures)
    digests = {entry.document_sha256 for i in indexes if (entry := state.entries[i]) is not None}
    if digest is None or digest in digests:
        return verdict
    message = (
        f"the document's SHA-256 {digest[:16]}... is not the one logged at leaf {indexes[0]} "
        f"({sorted(digests)[0][:16]}...): it was replaced after it was archived"
    )
    return replace(verdict, status="invalid", failures=(*verdict.failures, Failure("log", message)))


def verify_period(
    archive: Archive,
    first: date,
    last: date,
    *,
    check: TrustedKeys | None = None,
    workers: int = 4,
    progress: Steps | None = None,
) -> tuple[list[RunVerification], LogState]:
    """Every run of ``first``..``last`` verified, then held against the run log.

    An archive without a log keeps the documents' own verdicts, except that a ``valid``
    (signed, trusted) run is ``unlogged``: the writer that signs also logs, so a signed run
    with no log at all means the log was removed, or its appends are still pending.
    """
    keys = [ref.key for ref in archive.list_runs(first, last)]
    step = progress("verifying", len(keys)) if progress is not None else None
    verdicts = list(_map(archive.verify_with_digest, keys, workers, step))
    state = load_log(archive.run_log, check=check, workers=max(workers, 8), progress=progress)
    if not state.exists:
        return [_without_log(verdict) for verdict, _ in verdicts], state
    return check_period(state, archive.prefix, first, last, verdicts), state


def _without_log(verdict: RunVerification) -> RunVerification:
    if verdict.status != "valid":
        return verdict
    message = "signed, but the archive has no run log: it was removed, or appends are pending"
    return replace(
        verdict, status="unlogged", failures=(*verdict.failures, Failure("log", message))
    )


# -- audit ------------------------------------------------------------------------------


@dataclass
class AuditReport:
    """The audit's findings: log-level problems, and each leaf added since."""

    since: Checkpoint
    state: LogState
    problems: list[str] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(run["status"] == "valid" for run in self.runs)

    def as_dict(self) -> dict[str, Any]:
        latest = self.state.checkpoint
        return {
            "ok": self.ok,
            "since": {"size": self.since.size, "root": self.since.root},
            "log": self.state.as_dict(),
            "problems": list(self.problems),
            "runs": list(self.runs),
            "checkpoint": latest.as_json() if latest is not None else None,
        }


def audit(
    log: RunLog,
    since: Checkpoint,
    *,
    check: TrustedKeys | None = None,
    judge: Judge | None = None,
    workers: int = 8,
    progress: Steps | None = None,
) -> AuditReport:
    """Prove the log extends ``since`` and check every leaf added after it.

    Each leaf's document is judged by ``judge``; by default ``verify_document`` with the
    archive's limits and the same trusted keys (``check``) as the checkpoints.
    """
    if judge is None:
        limits = log.archive.limits

        def judge(key: str, body: bytes) -> RunVerification:
            return verify_document(key, body, limits, trusted=check)

    state = load_log(log, check=check, workers=workers, progress=progress)
    report = AuditReport(since, state, list(state.problems))
    problems = report.problems
    if check is not None:
        verdict = since.check_signature(check)
        if not verdict.ok:
            problems.append(
                f"the saved checkpoint's signature: {verdict.status}: {verdict.message}"
            )
    latest = state.checkpoint
    if latest is None:
        problems.append("the archive has no run log: it was removed")
        return report
    if latest.size < since.size:
        problems.append(
            f"the log has {latest.size} leaves, the saved checkpoint {since.size}: leaves removed"
        )
        return report
    _check_saved(log, since, problems)
    tree = state.tree
    if tree is None:
        return report  # the leaves do not fold to the root: nothing below can be proved
    try:
        proof = tree.consistency_proof(since.size, latest.size)
        root = bytes.fromhex(latest.root)
        verify_consistency(since.size, latest.size, bytes.fromhex(since.root), root, proof)
    except ProofError as error:
        problems.append(f"the log does not extend the saved checkpoint: {error}")
        return report
    _check_chain(log, tree, since, latest, check=check, problems=problems)
    added = range(since.size, latest.size)
    step = progress("checking the runs added", len(added)) if progress else None
    report.runs = list(
        _map(lambda i: _check_leaf(log, tree, state, i, judge), added, workers, step)
    )
    return report


def _check_saved(log: RunLog, since: Checkpoint, problems: list[str]) -> None:
    try:
        stored = log.read_checkpoint(since.size)
    except (ArchiveError, LogRecordError) as error:
        problems.append(f"checkpoint {since.size} cannot be read from the archive: {error}")
        return
    if stored.digest != since.digest:
        problems.append(
            f"checkpoint {since.size} in the archive is not the saved one: it was rewritten"
        )


def _check_chain(
    log: RunLog,
    tree: MerkleTree,
    since: Checkpoint,
    latest: Checkpoint,
    *,
    check: TrustedKeys | None,
    problems: list[str],
) -> None:
    """Each checkpoint after the saved one states its prefix's root and the one before."""
    previous: Checkpoint | None = since
    for size in range(since.size + 1, latest.size + 1):
        try:
            current = latest if size == latest.size else log.read_checkpoint(size)
        except (ArchiveError, LogRecordError) as error:
            problems.append(f"checkpoint {size} cannot be read: {error}")
            previous = None
            continue
        if current.root != tree.root(size).hex():
            problems.append(f"checkpoint {size} states a root its leaves do not give")
        if previous is not None and current.previous != previous.digest:
            problems.append(f"checkpoint {size} does not follow checkpoint {size - 1}")
        if check is not None and size != latest.size:
            verdict = current.check_signature(check)
            if not verdict.ok:
                problems.append(f"checkpoint {size} signature: {verdict.status}")
        previous = current


def _check_leaf(
    log: RunLog, tree: MerkleTree, state: LogState, index: int, judge: Judge
) -> dict[str, Any]:
    entry = state.entries[index]
    assert entry is not None  # the tree exists only when every leaf was read
    failures: list[dict[str, str]] = []
    try:
        proof = tree.inclusion_proof(index)
        verify_inclusion(index, tree.size, entry.leaf_hash, proof, tree.root())
    except ProofError as error:
        failures.append({"check": "inclusion", "message": str(error)})
    status = "valid"
    try:
        body = log.archive.read_bytes(entry.key)
    except ArchiveReadError as error:
        body = None
        status = "missing"
        failures.append({"check": "log", "message": f"logged but not readable: {error.reason}"})
    if body is not None:
        digest = hashlib.sha256(body).hexdigest()
        if digest != entry.document_sha256:
            status = "invalid"
            failures.append(
                {"check": "log", "message": "the document is not the one logged (digest differs)"}
            )
        verdict = judge(entry.key, body)
        if verdict.status != "valid":
            status = verdict.status if status == "valid" else status
            failures.extend({"check": f.check, "message": f.message} for f in verdict.failures)
    if failures and status == "valid":
        status = "invalid"
    return {"index": index, "key": entry.key, "status": status, "failures": failures}


def _map(
    function: Callable[[T], R],
    items: Sequence[T],
    workers: int,
    progress: Progress | None,
) -> Iterator[R]:
    if workers > 1 and len(items) > 1:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="audit") as pool:
            for result in pool.map(function, items):
                if progress is not None:
                    progress(1)
                yield result
        return
    for index in items:
        result = function(index)
        if progress is not None:
            progress(1)
        yield result
