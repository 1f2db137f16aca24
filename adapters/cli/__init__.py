"""The ``trade-ledger`` command line: ``app`` (Typer) and ``main`` (the console script).

Commands live in ``adapters.cli.commands`` (one module per group) and are registered in
``adapters.cli.application``; shared helpers are in ``adapters.cli.common``.
"""

from __future__ import annotations

import logging
import sys

from adapters.cli.application import app

logger = logging.getLogger(__name__)


def main() -> None:
    """Run the ``trade-ledger`` command line; an unexpected error is one line, not a traceback.

    The commands turn the errors they expect into messages and exit codes (2 for usage and
    configuration errors); anything else still exits 1, as Python would, but without the
    traceback (logged at DEBUG level for whoever enables it).
    """
    try:
        app()
    except Exception as error:
        logger.debug("trade-ledger failed", exc_info=True)
        message = f"trade-ledger: unexpected error: {type(error).__name__}: {error}"
        print(message, file=sys.stderr)
        raise SystemExit(1) from None


__all__ = ["app", "main"]
