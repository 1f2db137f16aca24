"""Brokers: the port the executor and reconciliation trade through, and its two adapters.

``port`` (what a broker must do, and the exact types crossing it), ``simulated`` (the
deterministic in-process broker of the demo and tests) and ``alpaca`` (Alpaca on
alpaca-py). Nothing is imported here, so using the port never loads alpaca-py.
"""
