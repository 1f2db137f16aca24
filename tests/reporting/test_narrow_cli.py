"""Every table stays readable at 80 columns: in a pipe (CliRunner's output is not a
terminal, so rich uses 80 columns) and in a real 80-column terminal (a pseudo-terminal):
no order id, key or strategy name is broken across lines."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapters.archive import LocalDirectoryArchive
from adapters.cli import app
from adapters.cli.tables import shorten_id
from tests.reporting.runs import Trade
from tests.reporting.test_report_cli import DAY, trading_run

STRATEGIES = {"momentum_strategy_long_name": "0.6", "mean_reversion_strategy": "0.4"}
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture
def runs(local_archive: LocalDirectoryArchive) -> tuple[LocalDirectoryArchive, list[Any]]:
    events = [
        trading_run(
            DAY + timedelta(hours=n),
            [
                Trade("AAPL", "BUY", "10.125", "100.25", STRATEGIES, ("100.20", "100.30")),
                Trade("MSFT", "SELL", "3", "400.10", {"breakout_strategy": "1"}, None),
            ],
            f"correlation-{n}",
        )
        for n in range(2)
    ]
    for stream in events:
        assert local_archive.write(stream).archived
    return local_archive, events


def order_ids(archive: LocalDirectoryArchive) -> list[str]:
    return [
        entry.order_id
        for ref in archive.list_runs(DAY.date())
        for entry in archive.read(ref.key).ledger.entries
    ]


def check_whole(output: str, archive: LocalDirectoryArchive, *, ids: bool, names: bool) -> None:
    lines = output.splitlines()
    if ids:
        for order_id in order_ids(archive):
            assert any(order_id in line or shorten_id(order_id) in line for line in lines), (
                order_id,
                output,
            )
    if names:
        for name in (*STRATEGIES, "breakout_strategy"):
            assert any(name in line for line in lines), (name, output)
    for line in lines:
        if line[:1] in "┏┃┡│└":
            assert len(line) <= 80, line


def keys(archive: LocalDirectoryArchive) -> list[str]:
    return [ref.key for ref in archive.list_runs(DAY.date())]


COMMANDS: dict[str, tuple[list[str], bool, bool]] = {
    "show": (["show", "--date", "2024-03-04"], True, True),
    "list": (["list", "--date", "2024-03-04"], False, False),
    "verify": (["verify", "--date", "2024-03-04"], False, False),
    "report-strategies": (
        ["report", "strategies", "--from", "2024-03-04", "--to", "2024-03-04"],
        False,
        True,
    ),
    "report-pnl": (["report", "pnl", "--from", "2024-03-04", "--to", "2024-03-04"], False, True),
    "report-quality": (
        ["report", "quality", "--from", "2024-03-04", "--to", "2024-03-04"],
        False,
        True,
    ),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_in_a_pipe(command: str, runs: tuple[LocalDirectoryArchive, list[Any]]) -> None:
    archive, _ = runs
    args, ids, names = COMMANDS[command]
    result = CliRunner().invoke(app, [*args, "--archive", str(archive.directory)])
    assert result.exit_code == 0, result.output
    check_whole(result.stdout, archive, ids=ids, names=names)
    if command in ("list", "verify"):
        for key in keys(archive):
            assert any(key in line for line in result.stdout.splitlines())


def in_terminal(args: list[str], columns: int, env: dict[str, str]) -> str:
    """The command's output in a pseudo-terminal ``columns`` wide (ANSI codes removed)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    script = "from adapters.cli import main; main()"
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "TERM": "xterm-256color"},
        close_fds=True,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert process.wait(timeout=60) == 0
    return ANSI.sub("", b"".join(chunks).decode().replace("\r\n", "\n"))


@pytest.mark.parametrize("command", ["show", "report-pnl"])
def test_in_an_80_column_terminal(
    command: str, runs: tuple[LocalDirectoryArchive, list[Any]], tmp_path: Path
) -> None:
    archive, _ = runs
    args, ids, names = COMMANDS[command]
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TRADE_LEDGER__OUTBOX_DIRECTORY"] = str(tmp_path / "outbox")
    output = in_terminal([*args, "--archive", str(archive.directory)], 80, env)
    check_whole(output, archive, ids=ids, names=names)
