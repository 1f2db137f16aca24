"""The local Ed25519 signer: key files created 0600, never overwritten, refused when unsafe."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.signing import (
    ED25519,
    KeyFileError,
    KeyFileExistsError,
    LocalSigner,
    Signer,
    create_key,
    key_id_of,
    load_public_key,
)
from adapters.signing.public import signature_holds


def test_created_key_is_private_and_signs_verifiably(tmp_path: Path) -> None:
    path = tmp_path / "config" / "signing-key.pem"
    signer = create_key(path)
    assert isinstance(signer, Signer)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert signer.algorithm == ED25519
    public = load_public_key(signer.public_key_pem())
    assert signer.key_id == key_id_of(public)
    signature = signer.sign(b"statement")
    assert signature_holds(public, b"statement", signature)
    assert not signature_holds(public, b"statemenT", signature)


def test_loaded_key_is_the_same_key(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    created = create_key(path)
    loaded = LocalSigner.load(path)
    assert loaded.key_id == created.key_id
    assert loaded.public_key_pem() == created.public_key_pem()
    assert loaded.sign(b"m") == created.sign(b"m")  # Ed25519 is deterministic


def test_create_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    first = create_key(path)
    before = path.read_bytes()
    with pytest.raises(KeyFileExistsError, match="already exists"):
        create_key(path)
    assert path.read_bytes() == before
    assert LocalSigner.load(path).key_id == first.key_id


def test_two_keys_differ(tmp_path: Path) -> None:
    assert create_key(tmp_path / "a.pem").key_id != create_key(tmp_path / "b.pem").key_id


def test_missing_key_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="keys init"):
        LocalSigner.load(tmp_path / "absent.pem")


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    create_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="0644"):
        LocalSigner.load(path)


def test_not_a_key_is_refused_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    path.write_bytes(b"secret-looking garbage")
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError) as raised:
        LocalSigner.load(path)
    assert "garbage" not in str(raised.value)


def test_other_key_types_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="not an Ed25519 key"):
        LocalSigner.load(path)


def test_repr_holds_no_key_material(tmp_path: Path) -> None:
    path = tmp_path / "k.pem"
    signer = create_key(path)
    secret = path.read_text().splitlines()[1]
    assert secret not in repr(signer)
    assert signer.key_id in repr(signer)
