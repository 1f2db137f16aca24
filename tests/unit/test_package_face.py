"""``from adapters import ...``: every public name resolves to its home's object, mypy sees
each one, and ``import adapters`` alone loads nothing heavy."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import adapters

FACE = Path(adapters.__file__)
USER_NAMES = {
    "Executor",
    "ExecutionResult",
    "SimulatedBroker",
    "AlpacaBroker",
    "AlpacaSettings",
    "ArchiveSettings",
    "EncryptionSettings",
    "open_archive",
    "archive_from_settings",
    "Broker",
    "OrderRequest",
    "Fill",
    "Side",
}
"""What the README and the guides import from the package."""


def type_checking_names() -> set[str]:
    """The names imported under ``if TYPE_CHECKING:`` in ``adapters/__init__.py``."""
    tree = ast.parse(FACE.read_text())
    guarded = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )
    return {
        alias.asname or alias.name
        for node in guarded.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def test_the_guides_names_are_public() -> None:
    assert set(adapters.__all__) >= USER_NAMES


def test_all_the_lazy_table_and_the_type_checking_imports_agree() -> None:
    assert len(adapters.__all__) == len(set(adapters.__all__))
    assert set(adapters.__all__) == set(adapters._HOMES)
    assert set(adapters.__all__) == type_checking_names()


@pytest.mark.parametrize("name", sorted(adapters.__all__))
def test_each_name_is_its_home_module_s_object(name: str) -> None:
    home = importlib.import_module(adapters._HOMES[name])
    assert getattr(adapters, name) is getattr(home, name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = adapters.Nope  # type: ignore[attr-defined]


def loaded_after(code: str) -> set[str]:
    """Top-level packages and ``adapters`` modules loaded by ``code`` in a fresh process."""
    probe = (
        f"import sys; {code}; "
        "print('\\n'.join(m for m in sys.modules if m.split('.')[0] in "
        "('adapters', 'alpaca', 'boto3', 'botocore', 'ledger_domain', 'projections')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_importing_the_package_loads_nothing_else() -> None:
    assert loaded_after("import adapters") == {"adapters"}


def test_the_executor_and_the_simulated_broker_do_not_load_alpaca_py() -> None:
    loaded = loaded_after("from adapters import Executor, SimulatedBroker")
    assert "adapters.execution.executor" in loaded
    assert "adapters.brokers.simulated" in loaded
    assert not {name for name in loaded if name.split(".")[0] == "alpaca"}
    assert not {name for name in loaded if name.startswith("adapters.brokers.alpaca")}
