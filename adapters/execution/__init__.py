"""Execution: trade a rebalance plan through a broker and record every fill as it happens.

``executor`` (the ``Executor``: a run from plan to archived ledger), ``orders`` (a plan's
orders), ``recorder`` (fills recorded off the event loop) and ``result`` (what a run
reports). ``from adapters import Executor`` is the usual import.
"""
