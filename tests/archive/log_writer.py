"""A separate process that archives runs into a moto bucket, appending each to the run log.

``python -m tests.archive.log_writer ENDPOINT BUCKET KEY_FILE FIRST COUNT``: writes runs
``FIRST`` .. ``FIRST + COUNT - 1`` (each its own correlation id and second), signing
checkpoints with the Ed25519 key in ``KEY_FILE``; prints one JSON line per outcome. Two of
these at once is the concurrency test.
"""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path

from adapters.archive import S3Archive
from adapters.archive.settings import S3ClientSettings
from adapters.signing import LocalSigner
from tests.archive.runs import CREATED, closed_run


def main(endpoint: str, bucket: str, key_file: str, first: int, count: int) -> None:
    archive = S3Archive(
        bucket,
        endpoint_url=endpoint,
        client_settings=S3ClientSettings(max_attempts=3, connect_timeout=5, read_timeout=30),
    )
    archive.signer = LocalSigner.load(Path(key_file))
    for number in range(first, first + count):
        events = closed_run(
            2, correlation_id=f"writer-{number}", created_at=CREATED + timedelta(seconds=number)
        )
        outcome = archive.write(events)
        print(
            json.dumps({"key": outcome.key, "status": outcome.status, "index": outcome.log_index})
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
