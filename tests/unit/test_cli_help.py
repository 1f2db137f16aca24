"""Every command is listed by ``trade-ledger --help``, and its own help renders and names
each of its options (rich markup in help text once crashed four of them)."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from adapters.cli import app

BROKER_OPTIONS = ["--broker", "--broker-state", "--fill-delay", "--partial-fills"]
OPTIONS = {
    "list": ["--archive", "--date", "--from", "--to", "--json"],
    "show": ["--archive", "--key", "--date", "--from", "--to", "--json", "--events", "--workers"],
    "verify": [
        "--archive",
        "--key",
        "--date",
        "--from",
        "--to",
        "--json",
        "--allow-unverifiable",
        "--allow-unsigned",
        "--trusted-keys",
        "--workers",
    ],
    "push-outbox": ["--archive", "--json"],
    "checkpoint": ["--archive", "--trusted-keys", "--json"],
    "audit": ["--since", "--archive", "--trusted-keys", "--json", "--workers"],
    "export": ["--from", "--to", "--dest", "--archive", "--json", "--workers"],
    "sql": ["--export", "--json", "--csv"],
    "report": [
        "--archive",
        "--from",
        "--to",
        "--json",
        "--csv",
        "--html",
        "--workers",
        "--allow-unsigned",
        "--trusted-keys",
        "--allow-unverifiable",
    ],
    "reconcile": [
        "--date",
        "--archive",
        "--run",
        "--price-tolerance",
        "--average-price-tolerance",
        "--json",
        *BROKER_OPTIONS,
    ],
    "run": ["--json", *BROKER_OPTIONS],
    "recover": ["--idle", "--json", *BROKER_OPTIONS],
    "demo": ["--archive", "--json"],
}
"""Each command and the options it documents (the README and docs/ promise these)."""

GROUPS = {
    "outbox": {"list": ["--outbox", "--json"]},
    "keys": {"init": ["--key-file", "--trusted-keys", "--json"], "show": ["--key-file", "--json"]},
    "views": {"follow": ["--once", "--until-idle", "--idle"], "show": ["--json"]},
}
"""Each command group, listed after the commands, with its sub-commands' options."""


def listed_commands(help_text: str) -> list[str]:
    """The command names in the ``Commands`` panel, in order (a row starts with its name)."""
    panel = help_text.split("Commands", 1)[1]
    return re.findall(r"^\W+([a-z][a-z-]*)\s{2,}\S", panel, flags=re.MULTILINE)


def test_the_root_help_lists_every_command_in_order() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0, result.output
    assert listed_commands(result.output) == list(OPTIONS) + list(GROUPS)


def test_a_hidden_command_would_be_missing_from_the_list() -> None:
    """The list above is read from the help itself: a hidden command is not in it."""
    probe = typer.Typer()
    probe.command("shown")(lambda: None)
    probe.command("secret", hidden=True)(lambda: None)
    result = CliRunner().invoke(probe, ["--help"])
    assert listed_commands(result.output) == ["shown"]


def test_no_command_is_unknown_to_this_test() -> None:
    names = {command.name for command in app.registered_commands}
    assert names == set(OPTIONS)
    groups = {g.typer_instance.info.name for g in app.registered_groups if g.typer_instance}
    assert groups == set(GROUPS)


@pytest.mark.parametrize("command", list(OPTIONS))
def test_command_help_renders_and_names_its_options(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: trade-ledger {command} [OPTIONS]" in result.output
    shown = set(re.findall(r"(--[a-z][a-z-]*)", result.output))
    assert shown >= set(OPTIONS[command]), f"missing {set(OPTIONS[command]) - shown}"
    assert shown - {"--help"} == set(OPTIONS[command]), "an undocumented option"


@pytest.mark.parametrize(
    ("group", "command"), [(g, c) for g, commands in GROUPS.items() for c in commands]
)
def test_group_command_help_renders_and_names_its_options(group: str, command: str) -> None:
    result = CliRunner().invoke(app, [group, command, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: trade-ledger {group} {command} [OPTIONS]" in result.output
    shown = set(re.findall(r"(--[a-z][a-z-]*)", result.output))
    assert shown - {"--help"} == set(GROUPS[group][command])
