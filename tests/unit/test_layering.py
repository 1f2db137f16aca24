"""The layers, checked on every module's imports (parsed with ``ast``, imports inside
functions and ``TYPE_CHECKING`` blocks included):

- ``ledger_domain`` imports neither ``projections`` nor ``adapters``;
- ``projections`` imports, of this project, only ``ledger_domain`` (and otherwise only
  pydantic and the standard library);
- reconciliation's pure modules (matching and its fill and report types) import only the
  standard library minus its I/O modules, ``ledger_domain`` and each other: no broker, no
  archive, no network, no files, no event loop;
- no CLI command module imports another; only the application module imports them, and
  it registers every one.

Each rule is also run on a made-up module that breaks it, so none can pass vacuously.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import adapters
from adapters.cli import application

ROOT = Path(adapters.__file__).resolve().parents[1]
PROJECT = ("ledger_domain", "projections", "adapters")

PURE_RECONCILIATION = frozenset(
    {
        "adapters.reconciliation.matching",
        "adapters.reconciliation.fills",
        "adapters.reconciliation.report",
    }
)
IO_MODULES = frozenset(
    {
        "asyncio",
        "concurrent",
        "ftplib",
        "glob",
        "http",
        "io",
        "multiprocessing",
        "os",
        "pathlib",
        "select",
        "selectors",
        "shutil",
        "socket",
        "socketserver",
        "sqlite3",
        "ssl",
        "subprocess",
        "tempfile",
        "threading",
        "urllib",
    }
)
"""Standard-library modules that reach files, sockets, processes or an event loop."""
IO_CALLS = frozenset({"open", "__import__", "import_module", "input", "print"})
"""Calls a pure module never makes (``import_module`` would hide an import from this test)."""

CLI_COMMANDS = "adapters.cli.commands"
CLI_REGISTRY = "adapters.cli.application"


@dataclass(frozen=True)
class Module:
    name: str
    tree: ast.Module
    is_package: bool = False

    @classmethod
    def parse(cls, name: str, source: str, *, is_package: bool = False) -> Module:
        return cls(name, ast.parse(source), is_package)

    @property
    def package(self) -> str:
        """Where its relative imports start."""
        return self.name if self.is_package else self.name.rpartition(".")[0]

    def imports(self) -> set[str]:
        """Every module this one imports; ``from a import b`` gives ``a`` and ``a.b``."""
        found: set[str] = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = self._absolute(node)
                found.add(base)
                found.update(f"{base}.{alias.name}" for alias in node.names)
        return found

    def calls(self) -> set[str]:
        """The names of the functions it calls (``f(...)`` and ``x.f(...)``)."""
        names: set[str] = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name):
                    names.add(func.id)
                elif isinstance(func, ast.Attribute):
                    names.add(func.attr)
        return names

    def _absolute(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        parts = self.package.split(".")
        base = ".".join(parts[: len(parts) - node.level + 1])
        return f"{base}.{node.module}" if node.module else base


def project_modules() -> Iterator[Module]:
    for package in PROJECT:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            yield Module.parse(".".join(parts), path.read_text(), is_package=is_package)


MODULES = {module.name: module for module in project_modules()}


def root(name: str) -> str:
    return name.split(".", maxsplit=1)[0]


def within(name: str, module: str) -> bool:
    return name == module or name.startswith(f"{module}.")


# -- the rules: each returns what breaks it -------------------------------------------------


def domain_violations(module: Module) -> set[str]:
    return {name for name in module.imports() if root(name) in ("projections", "adapters")}


def projection_violations(module: Module) -> set[str]:
    allowed = {"ledger_domain", "projections", "pydantic"}
    return {
        name
        for name in module.imports()
        if root(name) not in allowed and root(name) not in sys.stdlib_module_names
    }


def purity_violations(module: Module) -> set[str]:
    """Imports outside stdlib-minus-I/O, ``ledger_domain`` and the pure modules; I/O calls."""
    found: set[str] = set()
    for name in module.imports():
        top = root(name)
        if top == "__future__" or top == "ledger_domain":
            continue
        if top in sys.stdlib_module_names and top not in IO_MODULES:
            continue
        if any(within(name, pure) for pure in PURE_RECONCILIATION):
            continue
        if name == "adapters.reconciliation":  # the package itself (``from ... import x``)
            continue
        found.add(name)
    found.update(f"{call}()" for call in module.calls() & IO_CALLS)
    return found


def command_modules() -> set[str]:
    return {name for name in MODULES if name.startswith(f"{CLI_COMMANDS}.")}


def command_import_violations(module: Module, commands: set[str]) -> set[str]:
    """The command modules ``module`` imports (other than itself), unless it is the registry."""
    if module.name == CLI_REGISTRY:
        return set()
    return {
        command
        for command in commands - {module.name}
        for name in module.imports()
        if within(name, command)
    }


def decorator_registrations(module: Module) -> set[str]:
    """``@something.command(...)`` and the like: registration as an import side effect."""
    found: set[str] = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if isinstance(target, ast.Attribute) and target.attr in (
                    "command",
                    "callback",
                    "add_typer",
                ):
                    found.add(node.name)
    return found


# -- the project keeps them ----------------------------------------------------------------


def modules_of(package: str) -> list[Module]:
    found = [module for name, module in MODULES.items() if within(name, package)]
    assert found, f"no modules found for {package}"
    return found


def test_the_domain_imports_neither_projections_nor_adapters() -> None:
    broken = {m.name: domain_violations(m) for m in modules_of("ledger_domain")}
    assert {name: found for name, found in broken.items() if found} == {}


def test_projections_import_only_the_domain_pydantic_and_the_standard_library() -> None:
    broken = {m.name: projection_violations(m) for m in modules_of("projections")}
    assert {name: found for name, found in broken.items() if found} == {}


def test_importing_the_domain_loads_neither_projections_nor_adapters() -> None:
    code = (
        "import sys, ledger_domain, ledger_domain.service;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('projections', 'adapters')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_reconciliation_matching_imports_no_io() -> None:
    assert set(MODULES) >= PURE_RECONCILIATION
    broken = {name: purity_violations(MODULES[name]) for name in sorted(PURE_RECONCILIATION)}
    assert {name: found for name, found in broken.items() if found} == {}


def test_no_cli_command_module_imports_another() -> None:
    commands = command_modules()
    known = (
        "archive",
        "runlog",
        "analytics",
        "report",
        "reconcile",
        "run",
        "recover",
        "demo",
        "outbox",
        "keys",
        "views",
    )
    assert {f"{CLI_COMMANDS}.{name}" for name in known} <= commands
    broken = {m.name: command_import_violations(m, commands) for m in modules_of("adapters.cli")}
    assert {name: found for name, found in broken.items() if found} == {}


def test_commands_are_registered_explicitly_in_one_place() -> None:
    registered = {group.__name__ for group in application.COMMAND_GROUPS}
    assert registered == command_modules()
    for name in command_modules():
        assert "register" in {
            node.name for node in MODULES[name].tree.body if isinstance(node, ast.FunctionDef)
        }, name
    broken = {m.name: decorator_registrations(m) for m in modules_of("adapters.cli")}
    assert {name: found for name, found in broken.items() if found} == {}


def test_the_packages_ship_their_type_marker() -> None:
    for package in PROJECT:
        assert (ROOT / package / "py.typed").is_file(), package


# -- and each rule catches a module that breaks it -------------------------------------------


@pytest.mark.parametrize(
    ("name", "source", "rule", "expected"),
    [
        (
            "ledger_domain.models",
            "from projections.totals import Totals",
            domain_violations,
            "projections.totals",
        ),
        (
            "ledger_domain.service",
            "def f():\n    import adapters.archive",
            domain_violations,
            "adapters.archive",
        ),
        ("projections.core", "from adapters import Executor", projection_violations, "adapters"),
        ("projections.core", "import boto3", projection_violations, "boto3"),
        (
            "adapters.reconciliation.matching",
            "from adapters.brokers.port import FillHistory",
            purity_violations,
            "adapters.brokers.port",
        ),
        (
            "adapters.reconciliation.matching",
            "from adapters.brokers.alpaca.mapping import same_execution",
            purity_violations,
            "adapters.brokers.alpaca.mapping",
        ),
        (
            "adapters.reconciliation.matching",
            "from adapters.archive import Archive",
            purity_violations,
            "adapters.archive",
        ),
        (
            "adapters.reconciliation.matching",
            "from . import runs",
            purity_violations,
            "adapters.reconciliation.runs",
        ),
        ("adapters.reconciliation.matching", "import asyncio", purity_violations, "asyncio"),
        ("adapters.reconciliation.fills", "import boto3", purity_violations, "boto3"),
        (
            "adapters.reconciliation.report",
            "from urllib.request import urlopen",
            purity_violations,
            "urllib.request",
        ),
        (
            "adapters.reconciliation.matching",
            "def f(p):\n    return open(p).read()",
            purity_violations,
            "open()",
        ),
    ],
)
def test_a_broken_rule_is_reported(name: str, source: str, rule: object, expected: str) -> None:
    assert callable(rule)
    assert expected in rule(Module.parse(name, source))


@pytest.mark.parametrize(
    ("name", "source"),
    [
        (f"{CLI_COMMANDS}.reconcile", "from adapters.cli.commands.archive import chosen_archive"),
        (f"{CLI_COMMANDS}.reconcile", "from adapters.cli.commands import archive"),
        (f"{CLI_COMMANDS}.demo", "def f():\n    import adapters.cli.commands.archive"),
        ("adapters.cli.common", "from adapters.cli.commands.demo import demo"),
    ],
)
def test_a_command_module_importing_another_is_reported(name: str, source: str) -> None:
    commands = {f"{CLI_COMMANDS}.{n}" for n in ("archive", "reconcile", "demo")}
    assert command_import_violations(Module.parse(name, source), commands)


def test_registration_by_decorator_is_reported() -> None:
    source = "import typer\napp = typer.Typer()\n\n@app.command()\ndef hello() -> None: ..."
    assert decorator_registrations(Module.parse(f"{CLI_COMMANDS}.hello", source)) == {"hello"}
