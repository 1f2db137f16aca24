"""S3 specifics against the moto server: conditional PUT, checksum, encryption, outbox, guide."""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from adapters.archive import Outbox, S3Archive, archive_from_settings, encode_run
from adapters.archive.settings import ArchiveSettings, EncryptionSettings, S3ClientSettings
from tests.archive.conftest import MotoServer, signing
from tests.archive.runs import GUIDE_FIELDS, closed_run, unsigned
from tests.servers import free_port
from tests.signing_keys import SIGNER

pytestmark = pytest.mark.moto


def test_put_is_conditional_checksummed_and_encrypted(
    s3_archive: S3Archive, s3_client: Any
) -> None:
    outcome = s3_archive.write(closed_run(3))
    head = s3_client.head_object(Bucket=s3_archive.bucket, Key=outcome.key, ChecksumMode="ENABLED")
    body = s3_archive.read_bytes(outcome.key)
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(body).digest()).decode()
    assert head["ContentType"] == "application/json"
    with pytest.raises(ClientError) as refused:
        s3_client.put_object(Bucket=s3_archive.bucket, Key=outcome.key, Body=b"{}", IfNoneMatch="*")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    assert s3_archive.read_bytes(outcome.key) == body


def test_kms_encryption_is_configurable(
    moto_server: MotoServer, bucket: str, s3_client: Any, tmp_path: Path
) -> None:
    archive = S3Archive(
        bucket,
        endpoint_url=moto_server.endpoint,
        encryption=EncryptionSettings(mode="aws:kms", kms_key_id="alias/trade-ledger"),
        outbox=Outbox(tmp_path / "outbox"),
    )
    outcome = archive.write(closed_run(2))
    assert outcome.status == "written", outcome.error
    head = s3_client.head_object(Bucket=bucket, Key=outcome.key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert "trade-ledger" in head["SSEKMSKeyId"]


def test_encryption_can_be_switched_off(
    moto_server: MotoServer, bucket: str, s3_client: Any
) -> None:
    archive = S3Archive(
        bucket, endpoint_url=moto_server.endpoint, encryption=EncryptionSettings(mode="none")
    )
    outcome = archive.write(closed_run(2))
    assert "ServerSideEncryption" not in s3_client.head_object(Bucket=bucket, Key=outcome.key)


GUIDE_SNIPPET = """
# Ledgers are stored as JSON files in S3
# Example: Download and analyze past executions
import boto3
import json

s3 = boto3.client('s3')
bucket = 'the-alchemiser-v2-trade-ledger-prod'

# List all ledger files for a specific date
response = s3.list_objects_v2(
    Bucket=bucket,
    Prefix='trade-ledgers/2024/01/15/'
)

# Download and parse a specific ledger
obj = s3.get_object(Bucket=bucket, Key='trade-ledgers/2024/01/15/143052-abc123-xyz789.json')
ledger_data = json.loads(obj['Body'].read())
"""


def test_guide_snippet_reads_what_the_archive_wrote(
    s3_archive: S3Archive, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcome = s3_archive.write(closed_run(4))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint)  # boto3 reads it itself
    snippet = GUIDE_SNIPPET.replace("the-alchemiser-v2-trade-ledger-prod", s3_archive.bucket)
    snippet = snippet.replace("trade-ledgers/2024/01/15/143052-abc123-xyz789.json", outcome.key)
    namespace: dict[str, Any] = {}
    exec(snippet, namespace)
    assert [item["Key"] for item in namespace["response"]["Contents"]] == [outcome.key]
    ledger_data = namespace["ledger_data"]
    assert isinstance(ledger_data, dict)
    assert ledger_data.keys() >= GUIDE_FIELDS
    assert ledger_data["total_entries"] == len(ledger_data["entries"]) == 3
    assert {
        "order_id",
        "symbol",
        "direction",
        "filled_qty",
        "fill_price",
        "bid_at_fill",
        "ask_at_fill",
        "fill_timestamp",
        "order_type",
        "strategy_names",
        "strategy_weights",
    } <= ledger_data["entries"][0].keys()


def test_unreachable_endpoint_outboxes_then_push_sends_once(
    moto_server: MotoServer, bucket: str, aws_env: None, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox")
    closed_port = free_port()
    down = signing(
        S3Archive(
            bucket,
            endpoint_url=f"http://127.0.0.1:{closed_port}",
            client_settings=S3ClientSettings(max_attempts=2, connect_timeout=0.5, read_timeout=0.5),
            outbox=outbox,
        )
    )
    events = closed_run(5)
    outcome = down.write(events)
    assert outcome.status == "outboxed"
    assert outcome.error is not None
    assert outcome.signed_by == SIGNER.key_id  # signed before it waits
    assert unsigned(Path(outcome.location).read_bytes()) == encode_run(events).body
    assert outbox.count() == 1
    # Still down: the push keeps the document.
    assert [o.status for o in down.push_outbox()] == ["outboxed"]
    assert outbox.count() == 1

    up = signing(S3Archive(bucket, endpoint_url=moto_server.endpoint, outbox=outbox))
    pushed = up.push_outbox()
    assert [(o.status, o.key) for o in pushed] == [("written", outcome.key)]
    assert outbox.count() == 0
    assert unsigned(up.read_bytes(outcome.key)) == encode_run(events).body
    assert up.push_outbox() == []
    assert up.write(events).status == "already_archived"  # signed anew, same content
    assert [r.key for r in up.list_runs(date(2024, 1, 15))] == [outcome.key]
    assert up.verify(outcome.key).status == "valid"


def test_a_later_write_pushes_the_outbox(
    moto_server: MotoServer, bucket: str, aws_env: None, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox")
    first, second = closed_run(2, correlation_id="first"), closed_run(2, correlation_id="second")
    up = S3Archive(bucket, endpoint_url=moto_server.endpoint, outbox=outbox)
    outbox.put(up.key_for(first), encode_run(first).body)
    assert up.write(second).status == "written"
    assert outbox.count() == 0
    assert len(list(up.list_runs(date(2024, 1, 15)))) == 2


def test_missing_bucket_outboxes(moto_server: MotoServer, aws_env: None, tmp_path: Path) -> None:
    archive = S3Archive(
        "no-such-bucket-here", endpoint_url=moto_server.endpoint, outbox=Outbox(tmp_path / "o")
    )
    outcome = archive.write(closed_run(1))
    assert outcome.status == "outboxed"
    assert outcome.error is not None
    assert "NoSuchBucket" in outcome.error


def test_settings_and_boto3_endpoint_variables(
    moto_server: MotoServer, bucket: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRADE_LEDGER__BUCKET_NAME", bucket)
    monkeypatch.setenv("TRADE_LEDGER__ENABLED", "true")
    monkeypatch.setenv("TRADE_LEDGER__OUTBOX_DIRECTORY", str(tmp_path / "outbox"))
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint)
    archive = archive_from_settings()
    assert isinstance(archive, S3Archive)
    assert archive.location == f"s3://{bucket}/trade-ledgers"
    outcome = archive.write(closed_run(2))
    assert outcome.status == "written", outcome.error
    assert outcome.location == f"s3://{bucket}/{outcome.key}"

    monkeypatch.setenv("TRADE_LEDGER__ENABLED", "false")
    assert archive_from_settings(ArchiveSettings()).write(closed_run(2)).status == "disabled"
