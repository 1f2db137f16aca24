"""Reconciliation: do the ledgers say what the broker says was filled?

``matching`` holds the rules and is pure (no I/O: it imports neither brokers, archive nor
network); ``fills`` and ``report`` are its input and output types. ``ledger_source`` and
``broker_source`` gather the two sides; ``runs`` has the entry points (a run, an archived
run, a day of archived runs). Nothing is imported here, so the pure modules load alone.
"""
