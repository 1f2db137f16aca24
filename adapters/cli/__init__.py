"""Console entry point: importing the command modules registers their commands."""

from __future__ import annotations

from adapters.cli import demo_command  # noqa: F401  (registers commands)
from adapters.cli.app import app


def main() -> None:
    """Run the ``trade-ledger`` command line."""
    app()


__all__ = ["app", "main"]
