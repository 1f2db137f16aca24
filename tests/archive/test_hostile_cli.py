"""The auditor's commands over a day full of hostile documents and odd names, local and S3.

``verify`` lists every hostile document with its own status and the good run as valid
(exit 1); ``show`` and ``list`` finish; keys and messages reach the terminal as inert
text (control characters, bidirectional overrides and lone surrogates escaped).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.archive import Archive, LocalDirectoryArchive, S3Archive
from adapters.cli import app
from adapters.cli.common import out
from adapters.cli.printable import printable
from tests.archive.conftest import MotoServer
from tests.archive.runs import CREATED, closed_run
from tests.archive.test_archive import overwrite
from tests.archive.test_hostile import HOSTILE
from tests.signing_keys import trust_test_key

runner = CliRunner()
DAY = "2024-01-15"
# Not the two multi-megabyte ones: the per-document tests cover those on both stores.
SMALL = [name for name in HOSTILE if "million" not in name and "MB" not in name]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("TRADE_LEDGER__"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRADE_LEDGER__OUTBOX_DIRECTORY", str(tmp_path / "outbox"))
    trust_test_key(monkeypatch, tmp_path / "config")


def location(archive: Archive, moto: MotoServer | None, monkeypatch: pytest.MonkeyPatch) -> str:
    if isinstance(archive, S3Archive):
        assert moto is not None
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.endpoint)
        return f"s3://{archive.bucket}"
    assert isinstance(archive, LocalDirectoryArchive)
    return str(archive.directory)


def squeezed(output: str) -> str:
    """Table output without borders and whitespace (rich wraps long keys in its cells)."""
    return "".join(output.replace("\u2502", " ").split())


def run(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.fixture
def hostile_day(
    archive: Archive, request: pytest.FixtureRequest
) -> tuple[Archive, str, dict[str, str]]:
    """A good run and every small hostile document on one day: (archive, good key, keys)."""
    good = archive.write(closed_run(2, correlation_id="good", created_at=CREATED))
    keys = {}
    for index, name in enumerate(SMALL, start=1):
        key = f"trade-ledgers/2024/01/15/{index:06d}-hostile-doc{index}.json"
        overwrite(archive, key, HOSTILE[name][0]())
        keys[name] = key
    return archive, good.key, keys


@pytest.mark.timeout(180)
def test_verify_judges_every_document_of_a_hostile_day(
    hostile_day: tuple[Archive, str, dict[str, str]],
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    archive, good, keys = hostile_day
    moto = request.getfixturevalue("moto_server") if isinstance(archive, S3Archive) else None
    where = location(archive, moto, monkeypatch)

    result = run("verify", "--archive", where, "--date", DAY, "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    statuses = {item["key"]: item["status"] for item in report["runs"]}
    assert statuses[good] == "valid"
    for name, key in keys.items():
        assert statuses[key] == HOSTILE[name][1], name
        checks = next(item["failed_checks"] for item in report["runs"] if item["key"] == key)
        assert HOSTILE[name][2] in checks, (name, checks)
    assert report["counts"]["valid"] == 1
    assert sum(report["counts"].values()) == len(keys) + 1

    table = run("verify", "--archive", where, "--date", DAY)
    assert table.exit_code == 1
    assert f"1 valid, {sum(1 for n in keys if HOSTILE[n][1] == 'invalid')} invalid" in table.stdout

    shown = run("show", "--archive", where, "--date", DAY, "--json")
    assert shown.exit_code == 1  # some are unreadable
    reads = {item["key"]: item for item in json.loads(shown.stdout)}
    assert reads[good]["ledger"]["correlation_id"] == "good"
    assert set(reads) == {good, *keys.values()}
    listed = run("list", "--archive", where, "--date", DAY)
    assert listed.exit_code == 0
    assert f"{len(keys) + 1} run(s)" in listed.stdout


ODD_NAMES = [
    "000001-a-\x1b[2J\x1b[32mvalid.json",  # an escape sequence that clears the screen
    "000002-a-\u202egnp.json",  # right-to-left override
    "000003-a-b\rvalid.json",
    "000004-a-:cross_mark:[bold]x.json",
]


@pytest.mark.timeout(120)
def test_odd_names_in_the_archive_are_listed_and_judged_as_inert_text(
    archive: Archive, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto = request.getfixturevalue("moto_server") if isinstance(archive, S3Archive) else None
    where = location(archive, moto, monkeypatch)
    good = archive.write(closed_run(2, correlation_id="good"))
    body = archive.read_bytes(good.key)
    keys = [f"trade-ledgers/2024/01/15/{name}" for name in ODD_NAMES]
    for key in keys:
        overwrite(archive, key, body)
    monkeypatch.setattr(out, "width", 400)  # whole keys on one line
    listed = run("list", "--archive", where, "--date", DAY)
    assert listed.exit_code == 0, listed.output
    for raw in ("\x1b", "\u202e", "\r"):
        assert raw not in listed.stdout
    assert "\\x1b[2J\\x1b[32mvalid" in squeezed(listed.stdout)
    assert ":cross_mark:[bold]x" in squeezed(listed.stdout)
    verified = run("verify", "--archive", where, "--date", DAY)
    assert verified.exit_code == 1
    for raw in ("\x1b", "\u202e", "\r"):
        assert raw not in verified.stdout
    assert "1 valid, 4 invalid" in verified.stdout  # each a copy under another key


@pytest.mark.timeout(120)
def test_a_file_name_that_is_not_utf8_is_listed_escaped_in_a_strict_terminal(
    tmp_path: Path,
) -> None:
    """A lone surrogate (an undecodable file name) neither crashes a strict UTF-8 stdout
    nor breaks ``--json`` (it is written as its JSON escape)."""
    archive = LocalDirectoryArchive(tmp_path / "archive")
    good = archive.write(closed_run(2, correlation_id="good"))
    folder = os.fsencode(archive.path(good.key).parent)
    with open(folder + b"/000001-a-\xff\xfe.json", "wb") as handle:
        handle.write(archive.read_bytes(good.key))
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", "PYTHONUTF8": "1", "COLUMNS": "400"}
    env.pop("TRADE_LEDGER__BUCKET_NAME", None)
    commands = [["list"], ["list", "--json"], ["verify"]]
    done = subprocess.run(
        [sys.executable, "-c", STRICT_SCRIPT, str(archive.directory), DAY, json.dumps(commands)],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    assert b"Traceback" not in done.stderr, done.stderr.decode(errors="replace")
    outputs = dict(zip(["list", "--json", "verify"], done.stdout.split(SEPARATOR), strict=True))
    assert outputs["list"].endswith(b"exit 0\n")
    assert b"000001-a-\\udcff\\udcfe.json" in outputs["list"]
    listed = json.loads(outputs["--json"].rpartition(b"exit 0")[0])
    names = {item["key"].rpartition("/")[2] for item in listed}
    assert "000001-a-\udcff\udcfe.json" in names
    assert outputs["verify"].endswith(b"exit 1\n")  # the copy is not at its own key


SEPARATOR = b"\n=====\n"
# One interpreter runs the three commands (each start costs seconds on a busy machine).
STRICT_SCRIPT = """
import json, sys
from typer.main import get_command
from adapters.cli import app
command = get_command(app)
where, day, runs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
for index, args in enumerate(runs):
    if index:
        sys.stdout.write("\\n=====\\n")
    code = command.main([*args, "-a", where, "-d", day], standalone_mode=False)
    sys.stdout.write(f"exit {code or 0}\\n")
    sys.stdout.flush()
"""


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain-id_1.json", "plain-id_1.json"),
        ("a\x1b[2Jb", "a\\x1b[2Jb"),
        ("x\u202ey", "x\\u202ey"),
        ("\udcff", "\\udcff"),
        ("a\\x1b", "a\\\\x1b"),  # a literal backslash cannot pass for an escape
        ("\U000e0001tag", "\\U000e0001tag"),
        ("Zürich 株式", "Zürich 株式"),
    ],
)
def test_printable_escapes_only_what_a_terminal_would_act_on(text: str, shown: str) -> None:
    assert printable(text) == shown
