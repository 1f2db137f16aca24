"""Commands registered on the shared Typer app (filled in by its owner)."""

from __future__ import annotations

from adapters.cli.app import app  # noqa: F401
