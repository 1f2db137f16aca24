"""Trusted keys: only a listed key, by its algorithm, within its period, makes ``valid``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.signing import (
    LocalSigner,
    TrustedKey,
    TrustedKeys,
    TrustedKeysError,
    create_key,
    trust_signer,
    trusted_entry,
)

NOW = datetime(2026, 12, 3, 12, tzinfo=UTC)


@pytest.fixture
def signer(tmp_path: Path) -> LocalSigner:
    return create_key(tmp_path / "key.pem")


@pytest.fixture
def other(tmp_path: Path) -> LocalSigner:
    return create_key(tmp_path / "other.pem")


def test_trusted_key_valid_signature(signer: LocalSigner) -> None:
    trusted = TrustedKeys([trusted_entry(signer)])
    check = trusted.check(signer.key_id, signer.algorithm, b"m", signer.sign(b"m"), NOW)
    assert check.status == "valid"
    assert check.ok


def test_unknown_key_is_untrusted(signer: LocalSigner, other: LocalSigner) -> None:
    trusted = TrustedKeys([trusted_entry(signer)])
    check = trusted.check(other.key_id, other.algorithm, b"m", other.sign(b"m"), NOW)
    assert check.status == "untrusted_key"
    assert other.key_id in check.message


def test_no_keys_trust_nothing(signer: LocalSigner) -> None:
    check = TrustedKeys().check(signer.key_id, signer.algorithm, b"m", signer.sign(b"m"), NOW)
    assert check.status == "untrusted_key"


def test_signature_by_another_key_under_a_trusted_id_is_bad(
    signer: LocalSigner, other: LocalSigner
) -> None:
    trusted = TrustedKeys([trusted_entry(signer)])
    check = trusted.check(signer.key_id, signer.algorithm, b"m", other.sign(b"m"), NOW)
    assert check.status == "bad_signature"


def test_changed_message_is_bad(signer: LocalSigner) -> None:
    trusted = TrustedKeys([trusted_entry(signer)])
    check = trusted.check(signer.key_id, signer.algorithm, b"n", signer.sign(b"m"), NOW)
    assert check.status == "bad_signature"


def test_wrong_algorithm_claim_is_bad(signer: LocalSigner) -> None:
    trusted = TrustedKeys([trusted_entry(signer)])
    check = trusted.check(signer.key_id, "ecdsa-p256-sha256", b"m", signer.sign(b"m"), NOW)
    assert check.status == "bad_signature"


@settings(max_examples=30, deadline=None)
@given(message=st.binary(max_size=300), bit=st.integers(min_value=0))
def test_any_flipped_bit_in_a_signature_fails(message: bytes, bit: int) -> None:
    signer = _SIGNER
    trusted = TrustedKeys([trusted_entry(signer)])
    signature = bytearray(signer.sign(message))
    position = bit % (len(signature) * 8)
    signature[position // 8] ^= 1 << (position % 8)
    check = trusted.check(signer.key_id, signer.algorithm, message, bytes(signature), NOW)
    assert check.status == "bad_signature"


def test_validity_period_rotates_keys(signer: LocalSigner) -> None:
    entry = trusted_entry(signer, NOW).model_copy(update={"valid_to": NOW + timedelta(days=30)})
    trusted = TrustedKeys([entry])
    signature = signer.sign(b"m")

    def status(moment: datetime) -> str:
        return trusted.check(signer.key_id, signer.algorithm, b"m", signature, moment).status

    assert status(NOW) == "valid"
    assert status(NOW - timedelta(seconds=1)) == "outside_validity"
    assert status(NOW + timedelta(days=30)) == "outside_validity"
    assert status(NOW + timedelta(days=29)) == "valid"


def test_entry_must_hold_the_key_it_names(signer: LocalSigner, other: LocalSigner) -> None:
    with pytest.raises(ValueError, match="fingerprint"):
        TrustedKey(key_id=signer.key_id, algorithm="ed25519", public_key=other.public_key_pem())
    with pytest.raises(ValueError, match="does not fit"):
        TrustedKey(
            key_id=signer.key_id,
            algorithm="ecdsa-p256-sha256",
            public_key=signer.public_key_pem(),
        )


def test_file_round_trip_and_trust_signer(tmp_path: Path, signer: LocalSigner) -> None:
    path = tmp_path / "cfg" / "trusted-keys.json"
    assert len(TrustedKeys.load_if_present(path)) == 0
    assert trust_signer(path, signer, NOW) is True
    assert trust_signer(path, signer, NOW) is False  # listed once
    loaded = TrustedKeys.load(path)
    assert signer.key_id in loaded
    assert len(loaded) == 1
    check = loaded.check(signer.key_id, signer.algorithm, b"m", signer.sign(b"m"), NOW)
    assert check.status == "valid"
    assert "PRIVATE" not in path.read_text()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"not json", "not valid"),
        (b'{"keys": [{"key_id": "x"}]}', "not valid"),
        (b'{"keys": [], "extra": 1}', "not valid"),
        (b"[]", "not valid"),
    ],
)
def test_malformed_file_is_refused_by_name(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "trusted.json"
    path.write_bytes(content)
    with pytest.raises(TrustedKeysError, match=reason) as raised:
        TrustedKeys.load(path)
    assert str(path) in str(raised.value)


def test_missing_file_is_an_error_when_named(tmp_path: Path) -> None:
    with pytest.raises(TrustedKeysError, match="no trusted-keys file"):
        TrustedKeys.load(tmp_path / "absent.json")


def test_naive_validity_is_refused(signer: LocalSigner) -> None:
    entry = json.loads(trusted_entry(signer).model_dump_json())
    entry["valid_from"] = "2026-01-01T00:00:00"
    with pytest.raises(ValueError, match="timezone"):
        TrustedKey.model_validate(entry)


def _make_signer() -> LocalSigner:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: PLC0415

    return LocalSigner(Ed25519PrivateKey.generate())


_SIGNER = _make_signer()
