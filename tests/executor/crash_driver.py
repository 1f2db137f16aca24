"""``trade-ledger`` in a subprocess with a trap: at the K-th broker execution, or when the run
is being archived, the process sends itself a signal (SIGKILL, SIGTERM or SIGINT).

    python -m tests.executor.crash_driver fill:3 SIGKILL run plan.json --broker-state s.json
    python -m tests.executor.crash_driver archive SIGKILL run plan.json ...

At ``fill:K`` the broker has executed (and saved) the K-th fill, and the executor has not
seen it yet: the worst moment for a ledger. The rest of the arguments go to the real CLI.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

from adapters.archive.local import LocalDirectoryArchive
from adapters.brokers.simulated import SimulatedBroker
from adapters.cli import main as cli_main


def trap_fill(index: int, number: signal.Signals) -> None:
    original = SimulatedBroker.executions
    seen = [0]

    async def executions(self: SimulatedBroker, ticket: Any) -> AsyncIterator[Any]:
        async for fill in original(self, ticket):
            seen[0] += 1
            if seen[0] == index:
                os.kill(os.getpid(), number)
            yield fill

    SimulatedBroker.executions = executions  # type: ignore[method-assign]


def trap_archive(number: signal.Signals) -> None:
    original = LocalDirectoryArchive._put_new

    def put_new(self: LocalDirectoryArchive, key: str, body: bytes) -> None:
        os.kill(os.getpid(), number)
        original(self, key, body)

    LocalDirectoryArchive._put_new = put_new  # type: ignore[method-assign]


def main() -> None:
    trap, name, *argv = sys.argv[1:]
    number = signal.Signals[name]
    if trap == "archive":
        trap_archive(number)
    else:
        trap_fill(int(trap.removeprefix("fill:")), number)
    sys.argv = ["trade-ledger", *argv]
    cli_main()


if __name__ == "__main__":
    main()
