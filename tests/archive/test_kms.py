"""The KMS signer against moto's KMS server (over HTTP): sign, verify, archive, refuse."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.config import Config

from adapters.archive import Archive
from adapters.signing import ECDSA_P256_SHA256, SigningError, TrustedKeys, trusted_entry
from adapters.signing.kms import MAX_RAW_MESSAGE, KmsSigner
from adapters.signing.public import key_id_of, load_public_key
from tests.archive.conftest import MotoServer
from tests.archive.runs import closed_run

pytestmark = pytest.mark.moto


@pytest.fixture
def kms(moto_server: MotoServer, aws_env: None) -> Any:
    return boto3.client("kms", endpoint_url=moto_server.endpoint)


@pytest.fixture
def kms_key(kms: Any) -> str:
    key = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    return str(key["KeyMetadata"]["Arn"])


@pytest.fixture
def signer(moto_server: MotoServer, kms_key: str) -> KmsSigner:
    return KmsSigner(kms_key, endpoint_url=moto_server.endpoint)


def test_kms_signatures_verify_with_the_public_key_alone(signer: KmsSigner, kms: Any) -> None:
    assert signer.algorithm == ECDSA_P256_SHA256
    public = load_public_key(signer.public_key_pem())
    assert signer.key_id == key_id_of(public)
    trusted = TrustedKeys([trusted_entry(signer)])
    now = datetime.now(UTC)
    for message in (b"statement", b"x" * MAX_RAW_MESSAGE):
        signature = signer.sign(message)
        assert trusted.check(signer.key_id, signer.algorithm, message, signature, now).ok
        changed = trusted.check(signer.key_id, signer.algorithm, message + b"!", signature, now)
        assert changed.status == "bad_signature"
    with pytest.raises(SigningError, match="longer than KMS signs"):
        signer.sign(b"x" * (MAX_RAW_MESSAGE + 1))
    # KMS itself agrees the signature is its key's.
    short = signer.sign(b"statement")
    verified = kms.verify(
        KeyId=signer.kms_key_id,
        Message=b"statement",
        Signature=short,
        SigningAlgorithm="ECDSA_SHA_256",
    )
    assert verified["SignatureValid"] is True


def test_an_archive_signed_by_kms_verifies_valid(archive: Archive, signer: KmsSigner) -> None:
    archive.signer = signer
    archive.trusted_keys = TrustedKeys([trusted_entry(signer)])
    events = closed_run(3)
    first = archive.write(events)
    assert first.signed_by == signer.key_id
    verdict = archive.verify(first.key)
    assert (verdict.status, verdict.signed_by) == ("valid", signer.key_id)
    # ECDSA signs differently each time: a retry is still the same run.
    assert archive.write(events).status == "already_archived"


def test_a_key_that_cannot_sign_is_refused(moto_server: MotoServer, kms: Any) -> None:
    symmetric = kms.create_key()["KeyMetadata"]["KeyId"]
    with pytest.raises(SigningError, match="ECC_NIST_P256"):
        KmsSigner(symmetric, endpoint_url=moto_server.endpoint).sign(b"m")
    with pytest.raises(SigningError, match="KMS key"):
        KmsSigner("alias/absent", endpoint_url=moto_server.endpoint).sign(b"m")


def test_kms_unreachable_writes_the_document_unsigned(archive: Archive, aws_env: None) -> None:
    from tests.servers import free_port  # noqa: PLC0415

    down = KmsSigner(
        "alias/any",
        client=boto3.client(
            "kms",
            endpoint_url=f"http://127.0.0.1:{free_port()}",
            config=Config(retries={"max_attempts": 1}, connect_timeout=0.5),
        ),
    )
    archive.signer = down
    outcome = archive.write(closed_run(2))
    assert outcome.status == "written"
    assert outcome.error is not None
    assert "written unsigned" in outcome.error
    assert archive.verify(outcome.key).status == "unsigned"
