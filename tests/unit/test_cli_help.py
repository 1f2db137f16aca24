"""Every command's help renders (rich markup in help text once crashed four of them)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from adapters.cli import app

COMMANDS = ["list", "show", "verify", "push-outbox", "reconcile", "demo"]


def test_the_root_help_lists_every_command() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    for command in COMMANDS:
        assert command in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_renders(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
