"""The broker options ``run``, ``recover`` and ``reconcile`` share, and the broker they open.

``--broker simulated|alpaca``, ``--broker-state FILE`` (the simulated broker's orders and
fills, kept between processes), ``--fill-delay SECONDS`` (the simulated broker waits this
long before each execution) and ``--partial-fills N`` (each simulated order fills in N
executions). Alpaca comes from the ``ALPACA_*`` settings (paper by default). Not a command
module: command modules import it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer


class BrokerKind(StrEnum):
    simulated = "simulated"
    alpaca = "alpaca"


BrokerOption = Annotated[
    BrokerKind | None,
    typer.Option(
        "--broker",
        help="simulated (default for run/recover) or alpaca (ALPACA_* settings, paper by "
        "default; the default for reconcile).",
        case_sensitive=False,
        metavar="NAME",
    ),
]
BrokerStateOption = Annotated[
    Path | None,
    typer.Option(
        "--broker-state",
        metavar="FILE",
        help="Simulated broker: keep its orders and fills in this JSON file, so they "
        "outlive the process (as a real broker's do).",
    ),
]
FillDelayOption = Annotated[
    float,
    typer.Option(
        "--fill-delay",
        metavar="SECONDS",
        help="Simulated broker: seconds before each execution.",
        min=0.0,
    ),
]
PartialFillsOption = Annotated[
    int,
    typer.Option(
        "--partial-fills",
        metavar="N",
        help="Simulated broker: executions per order.",
        min=1,
        max=1000,
    ),
]


@dataclass(frozen=True)
class BrokerChoice:
    """What the broker options said."""

    kind: BrokerKind
    state_file: Path | None = None
    fill_delay: float = 0.0
    partial_fills: int = 1

    @property
    def has_history(self) -> bool:
        """Can this broker tell what an earlier process placed? (recovery needs it)"""
        return self.kind is BrokerKind.alpaca or self.state_file is not None

    def check(self, *, needs_history: bool = False) -> None:
        """Usage errors (exit 2) before anything is done."""
        if not math.isfinite(self.fill_delay):
            raise typer.BadParameter("must be a finite number", param_hint="--fill-delay")
        if self.kind is BrokerKind.alpaca:
            simulated_only = [
                name
                for name, given in (
                    ("--broker-state", self.state_file is not None),
                    ("--fill-delay", self.fill_delay != 0),
                    ("--partial-fills", self.partial_fills != 1),
                )
                if given
            ]
            if simulated_only:
                raise typer.BadParameter(
                    f"{', '.join(simulated_only)} apply to the simulated broker only",
                    param_hint="--broker",
                )
            return
        if self.state_file is not None and self.state_file.is_dir():
            raise typer.BadParameter(
                f"{str(self.state_file)!r} is a directory", param_hint="--broker-state"
            )
        if needs_history and self.state_file is None:
            raise typer.BadParameter(
                "the simulated broker keeps no history between processes without "
                "--broker-state FILE: there is nothing to ask it",
                param_hint="--broker-state",
            )

    def open(self) -> Any:
        """The broker: ``AlpacaBroker.from_settings()`` or a ``SimulatedBroker``.

        Raises ``AlpacaConfigError``/``ValueError`` for bad Alpaca settings and
        ``BrokerError`` for a state file in use or unreadable.
        """
        if self.kind is BrokerKind.alpaca:
            from adapters.brokers.alpaca import AlpacaBroker, AlpacaSettings  # noqa: PLC0415

            return AlpacaBroker.from_settings(AlpacaSettings())
        from adapters.brokers.simulated import SimulatedBroker  # noqa: PLC0415

        return SimulatedBroker(
            executions_per_order=self.partial_fills,
            fill_delay=self.fill_delay,
            state_file=self.state_file,
        )


def broker_choice(
    kind: BrokerKind | None,
    state_file: Path | None,
    fill_delay: float,
    partial_fills: int,
    *,
    default: BrokerKind = BrokerKind.simulated,
) -> BrokerChoice:
    return BrokerChoice(kind or default, state_file, fill_delay, partial_fills)
