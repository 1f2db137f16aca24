"""WORM storage: with Object Lock settings every object written is locked; moto enforces it."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from pydantic import ValidationError
from typer.testing import CliRunner

from adapters.archive import ArchiveSettings, ObjectLockSettings, Outbox, S3Archive
from adapters.cli import app
from tests.archive.conftest import FAST_CLIENT, MotoServer, signing
from tests.archive.runs import closed_run
from tests.signing_keys import trust_test_key

pytestmark = pytest.mark.moto
COMPLIANCE_30 = ObjectLockSettings(mode="COMPLIANCE", retention_days=30)
UNTIL = "2040-01-01T00:00:00Z"
GOVERNANCE_2040 = ObjectLockSettings(mode="GOVERNANCE", retain_until=UNTIL)


@pytest.fixture
def locked_bucket(moto_server: MotoServer, aws_env: None) -> str:
    name = f"worm-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=moto_server.endpoint)
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def locked_archive(
    moto_server: MotoServer, bucket: str, tmp_path: Path, lock: ObjectLockSettings
) -> S3Archive:
    return signing(
        S3Archive(
            bucket,
            endpoint_url=moto_server.endpoint,
            client_settings=FAST_CLIENT,
            outbox=Outbox(tmp_path / "outbox"),
            object_lock=lock,
        )
    )


def test_every_object_written_is_locked_and_refuses_deletion(
    moto_server: MotoServer, locked_bucket: str, tmp_path: Path
) -> None:
    archive = locked_archive(
        moto_server,
        locked_bucket,
        tmp_path,
        COMPLIANCE_30,
    )
    before = datetime.now(UTC)
    outcome = archive.write(closed_run(3))
    assert outcome.status == "written", outcome
    assert outcome.log_index == 0
    client = archive.client
    objects = client.list_objects_v2(Bucket=locked_bucket)["Contents"]
    keys = sorted(item["Key"] for item in objects)
    assert outcome.key in keys
    assert any("/log/leaves/" in key for key in keys)
    assert any("/log/checkpoints/" in key for key in keys)
    for key in keys:  # the document, the log leaf and the checkpoint alike
        head = client.head_object(Bucket=locked_bucket, Key=key)
        assert head["ObjectLockMode"] == "COMPLIANCE"
        until = head["ObjectLockRetainUntilDate"]
        assert before + timedelta(days=29) < until < datetime.now(UTC) + timedelta(days=31)
        version = head["VersionId"]
        with pytest.raises(ClientError) as refused:
            client.delete_object(Bucket=locked_bucket, Key=key, VersionId=version)
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
        assert client.get_object(Bucket=locked_bucket, Key=key, VersionId=version)["Body"].read()
    retention = archive.retention(outcome.key)
    assert retention is not None
    assert retention.mode == "COMPLIANCE"
    assert archive.verify(outcome.key).status == "valid"


def test_governance_with_a_fixed_date(
    moto_server: MotoServer, locked_bucket: str, tmp_path: Path
) -> None:
    until = GOVERNANCE_2040.retain_until
    archive = locked_archive(
        moto_server,
        locked_bucket,
        tmp_path,
        GOVERNANCE_2040,
    )
    outcome = archive.write(closed_run(2))
    retention = archive.retention(outcome.key)
    assert retention is not None
    assert (retention.mode, retention.retain_until) == ("GOVERNANCE", until)
    head = archive.client.head_object(Bucket=locked_bucket, Key=outcome.key)
    with pytest.raises(ClientError):
        archive.client.delete_object(
            Bucket=locked_bucket, Key=outcome.key, VersionId=head["VersionId"]
        )


def test_an_unlocked_archive_reports_no_retention(s3_archive: S3Archive) -> None:
    outcome = s3_archive.write(closed_run(2))
    assert s3_archive.retention(outcome.key) is None


def test_show_prints_the_retention(
    moto_server: MotoServer,
    locked_bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive = locked_archive(
        moto_server,
        locked_bucket,
        tmp_path,
        COMPLIANCE_30,
    )
    outcome = archive.write(closed_run(2))
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_server.endpoint)
    trust_test_key(monkeypatch, tmp_path / "config")
    location = f"s3://{locked_bucket}"
    runner = CliRunner()
    shown = runner.invoke(app, ["show", "-a", location, "--key", outcome.key, "--json"])
    assert shown.exit_code == 0, shown.output
    (item,) = json.loads(shown.stdout)
    assert item["retention"]["mode"] == "COMPLIANCE"
    assert datetime.fromisoformat(item["retention"]["retain_until"]) > datetime.now(UTC)
    text = runner.invoke(app, ["show", "-a", location, "--key", outcome.key])
    assert text.exit_code == 0, text.output
    assert "retention COMPLIANCE until" in text.stdout


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"mode": "COMPLIANCE"}, "exactly one"),
        (
            {"mode": "COMPLIANCE", "retention_days": 1, "retain_until": "2040-01-01T00:00:00Z"},
            "exactly one",
        ),
        ({"retention_days": 5}, "mode"),
        ({"mode": "FOREVER", "retention_days": 5}, "COMPLIANCE"),
        ({"mode": "GOVERNANCE", "retention_days": 0}, "greater than"),
        ({"mode": "GOVERNANCE", "retain_until": "2040-01-01T00:00:00"}, "timezone"),
    ],
)
def test_lock_settings_are_checked(values: dict[str, Any], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        ArchiveSettings(object_lock=values)


def test_lock_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRADE_LEDGER__OBJECT_LOCK__MODE", "COMPLIANCE")
    monkeypatch.setenv("TRADE_LEDGER__OBJECT_LOCK__RETENTION_DAYS", "2555")
    lock = ArchiveSettings().object_lock
    assert (lock.mode, lock.retention_days) == ("COMPLIANCE", 2555)
    assert ArchiveSettings(bucket_name="b-1-2").object_lock.enabled
