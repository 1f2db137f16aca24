"""The forger's moves against signed documents, each caught and named, on both adapters.

A forger here has write access to the archive (bucket or folder) but not the signing key:
they can re-encode a run with ``encode_run`` (every hash consistent again), copy a
document's signature block, sign with a key of their own, or move a document to another
key. None of these is ``valid``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.archive import Archive, LocalDirectoryArchive, encode_run, verify_document
from adapters.archive.keys import run_key
from adapters.archive.signature import sign_document
from adapters.signing import SigningError, TrustedKeys, trusted_entry
from ledger_domain import to_record
from tests.archive.runs import CREATED, closed_run, unsigned
from tests.archive.test_archive import overwrite
from tests.signing_keys import OUTSIDER, SIGNER, TRUSTED


def forged_price(events: list[Any]) -> list[dict[str, Any]]:
    """The run's records with one fill's price changed: a different, consistent history."""
    records = [to_record(event) for event in events]
    fill = next(r for r in records if r["type"] == "FillRecorded")
    fill["price"] = str(Decimal(fill["price"]) + Decimal("0.01"))
    return records


def test_a_written_document_is_signed_and_valid(archive: Archive) -> None:
    events = closed_run(5)
    outcome = archive.write(events)
    assert outcome.signed_by == SIGNER.key_id
    body = archive.read_bytes(outcome.key)
    block = json.loads(body)["signature"]
    assert block["key_id"] == SIGNER.key_id
    assert block["algorithm"] == "ed25519"
    assert unsigned(body) == encode_run(events).body  # the block is all that is added
    verdict = archive.verify(outcome.key)
    assert (verdict.status, verdict.failures) == ("valid", ())
    assert verdict.signed_by == SIGNER.key_id
    assert verdict.as_dict()["signed_by"] == SIGNER.key_id
    assert archive.read(outcome.key).ledger.total_entries > 0  # readers ignore the block


def test_reencoded_price_change_without_a_signature_is_unsigned(archive: Archive) -> None:
    events = closed_run(5)
    outcome = archive.write(events)
    forged = encode_run(forged_price(events))
    overwrite(archive, outcome.key, forged.body)
    verdict = archive.verify(outcome.key)
    assert verdict.status == "unsigned"  # every hash consistent, but nothing proves it
    assert not verdict.ok


def test_reencoded_price_change_keeping_the_old_signature_is_invalid(archive: Archive) -> None:
    events = closed_run(5)
    outcome = archive.write(events)
    block = orjson.loads(archive.read_bytes(outcome.key))["signature"]
    forged = encode_run(forged_price(events)).body
    overwrite(archive, outcome.key, forged[:-1] + b',"signature":' + orjson.dumps(block) + b"}")
    verdict = archive.verify(outcome.key)
    assert verdict.status == "invalid"
    assert verdict.failed_checks == ["signature"]
    assert "changed after signing" in verdict.failures[0].message


def test_reencoded_price_change_with_a_recomputed_digest_is_invalid(archive: Archive) -> None:
    """The forger also fixes ``body_sha256``: the signature no longer covers the statement."""
    events = closed_run(5)
    outcome = archive.write(events)
    block = orjson.loads(archive.read_bytes(outcome.key))["signature"]
    forged = encode_run(forged_price(events)).body
    block["body_sha256"] = hashlib.sha256(forged).hexdigest()
    overwrite(archive, outcome.key, forged[:-1] + b',"signature":' + orjson.dumps(block) + b"}")
    verdict = archive.verify(outcome.key)
    assert verdict.status == "invalid"
    assert verdict.failed_checks == ["signature"]
    assert "not key" in verdict.failures[0].message


def test_reencoded_price_change_signed_by_another_key_is_untrusted(archive: Archive) -> None:
    events = closed_run(5)
    outcome = archive.write(events)
    forged = encode_run(forged_price(events)).body
    overwrite(archive, outcome.key, sign_document(outcome.key, forged, OUTSIDER))
    verdict = archive.verify(outcome.key)
    assert verdict.status == "untrusted_key"
    assert verdict.signed_by == OUTSIDER.key_id
    assert OUTSIDER.key_id in (verdict.signature or "")


def test_a_document_signed_by_an_untrusted_key_is_untrusted(archive: Archive) -> None:
    archive.signer = OUTSIDER
    outcome = archive.write(closed_run(3))
    assert outcome.signed_by == OUTSIDER.key_id
    verdict = archive.verify(outcome.key)
    assert (verdict.status, verdict.failures) == ("untrusted_key", ())
    archive.trusted_keys = archive.trusted_keys.with_key(trusted_entry(OUTSIDER))  # type: ignore[union-attr]
    assert archive.verify(outcome.key).status == "valid"


def test_a_key_outside_its_trusted_period_is_untrusted(archive: Archive) -> None:
    outcome = archive.write(closed_run(3))
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    archive.trusted_keys = TrustedKeys([trusted_entry(SIGNER, tomorrow)])
    verdict = archive.verify(outcome.key)
    assert verdict.status == "untrusted_key"
    assert "outside" in (verdict.signature or "")


def test_no_trusted_keys_means_nothing_signed_is_valid(archive: Archive) -> None:
    outcome = archive.write(closed_run(3))
    archive.trusted_keys = TrustedKeys()
    assert archive.verify(outcome.key).status == "untrusted_key"


@pytest.mark.parametrize("shift", [timedelta(seconds=1), timedelta(hours=-3)])
def test_a_moved_document_is_invalid(archive: Archive, shift: timedelta) -> None:
    """Renamed to another time of the same day: its content implies its real key."""
    outcome = archive.write(closed_run(4))
    body = archive.read_bytes(outcome.key)
    ledger = archive.read(outcome.key).ledger
    moved = run_key(archive.prefix, ledger.ledger_id, ledger.correlation_id, CREATED + shift)
    assert moved != outcome.key
    overwrite(archive, moved, body)
    verdict = archive.verify(moved)
    assert verdict.status == "invalid"
    assert verdict.failed_checks == ["key", "signature"]
    assert f"belongs at {outcome.key}" in verdict.failures[0].message
    listed = {v.key: v.status for v in archive.verify_runs(CREATED.date())}
    assert listed == {outcome.key: "valid", moved: "invalid"}


def test_a_document_copied_under_another_runs_key_is_invalid(archive: Archive) -> None:
    first = archive.write(closed_run(3, correlation_id="a"))
    second = archive.write(closed_run(3, correlation_id="b"))
    overwrite(archive, second.key, archive.read_bytes(first.key))
    verdict = archive.verify(second.key)
    assert verdict.status == "invalid"
    assert {"key", "signature"} <= set(verdict.failed_checks)


def test_a_resigned_move_by_an_outsider_is_still_caught(archive: Archive) -> None:
    """Moved and signed again for the new key by a forger's key: wrong place, untrusted."""
    outcome = archive.write(closed_run(4))
    ledger = archive.read(outcome.key).ledger
    moved = run_key(
        archive.prefix, ledger.ledger_id, ledger.correlation_id, CREATED + timedelta(minutes=1)
    )
    body = sign_document(moved, unsigned(archive.read_bytes(outcome.key)), OUTSIDER)
    overwrite(archive, moved, body)
    verdict = archive.verify(moved)
    assert verdict.status == "invalid"
    assert verdict.failed_checks == ["key"]


@pytest.mark.parametrize(
    "block",
    [
        "not an object",
        {"algorithm": "ed25519"},
        {"algorithm": "ed25519", "key_id": 1, "signed_at": "x", "body_sha256": "y", "value": "z"},
    ],
)
def test_a_malformed_signature_block_is_invalid(archive: Archive, block: Any) -> None:
    outcome = archive.write(closed_run(2))
    document = json.loads(archive.read_bytes(outcome.key))
    document["signature"] = block
    overwrite(archive, outcome.key, orjson.dumps(document))
    verdict = archive.verify(outcome.key)
    assert verdict.status == "invalid"
    assert verdict.failed_checks == ["signature"]


def test_a_pretty_printed_signed_document_is_invalid(archive: Archive) -> None:
    """Signed bytes are exact: a reformatted copy is no longer the signed document."""
    outcome = archive.write(closed_run(2))
    overwrite(
        archive,
        outcome.key,
        json.dumps(json.loads(archive.read_bytes(outcome.key)), indent=2).encode(),
    )
    verdict = archive.verify(outcome.key)
    assert verdict.status == "invalid"
    assert "not the form it was signed in" in verdict.failures[0].message


class BrokenSigner:
    key_id = "broken"
    algorithm = "ed25519"

    def sign(self, message: bytes) -> bytes:
        raise SigningError("the key is on a holiday")

    def public_key_pem(self) -> str:
        raise SigningError("the key is on a holiday")


def test_a_signing_failure_never_stops_the_write(archive: Archive) -> None:
    archive.signer = BrokenSigner()
    events = closed_run(3)
    outcome = archive.write(events)
    assert outcome.status == "written"
    assert outcome.archived
    assert outcome.signed_by is None
    assert outcome.error is not None
    assert "written unsigned" in outcome.error
    assert "holiday" in outcome.error
    assert archive.read_bytes(outcome.key) == encode_run(events).body
    assert archive.verify(outcome.key).status == "unsigned"
    # Signed once the key is back: a retry is recognised as the same run.
    archive.signer = SIGNER
    assert archive.write(events).status == "already_archived"


def test_a_retry_signed_again_is_already_archived_not_a_conflict(archive: Archive) -> None:
    events = closed_run(3)
    first = archive.write(events)
    stored = archive.read_bytes(first.key)
    archive.signer = OUTSIDER  # another signature entirely, same content
    again = archive.write(events)
    assert again.status == "already_archived"
    assert archive.read_bytes(first.key) == stored


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_makes_a_signed_document_not_valid(
    tmp_path_factory: pytest.TempPathFactory, position: int, bit: int
) -> None:
    key = run_key("trade-ledgers", "l", "c", CREATED)
    body = bytearray(sign_document(key, encode_run(closed_run(2)).body, SIGNER))
    body[position % len(body)] ^= 1 << bit
    verdict = verify_document(key, bytes(body), trusted=TRUSTED)
    assert verdict.status != "valid"


def test_signing_again_changes_only_the_block(
    local_archive: LocalDirectoryArchive,
) -> None:
    events = closed_run(3)
    outcome = local_archive.write(events)
    again = sign_document(
        outcome.key, encode_run(events).body, SIGNER, now=datetime(2030, 1, 1, tzinfo=UTC)
    )
    assert unsigned(again) == unsigned(local_archive.read_bytes(outcome.key))
