"""Console entry point: importing the command modules registers their commands."""

from __future__ import annotations

from adapters.cli import archive_commands, broker_commands, demo_command  # noqa: F401
from adapters.cli.app import app


def main() -> None:
    """Run the ``trade-ledger`` command line."""
    app()


__all__ = ["app", "main"]
