"""The projections import only ledger_domain from this project; the domain never them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import projections

PACKAGE = Path(projections.__file__).parent
ALLOWED = {"ledger_domain", "projections", "pydantic"}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            roots.add(node.module.split(".")[0])
    return roots


def test_projections_import_only_the_domain_pydantic_and_the_standard_library() -> None:
    for path in sorted(PACKAGE.glob("*.py")):
        outside = {
            root
            for root in imported_roots(path)
            if root not in ALLOWED and root not in sys.stdlib_module_names
        }
        assert not outside, f"{path.name} imports {outside}"


def test_the_domain_does_not_import_projections() -> None:
    code = (
        "import sys, ledger_domain, ledger_domain.service;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('projections', 'adapters')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_the_package_ships_its_type_marker() -> None:
    assert (PACKAGE / "py.typed").exists()
