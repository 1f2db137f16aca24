"""The command modules: one per command group, each with a ``register(app)``.

``adapters.cli.application`` registers them, explicitly and in one place. A command module
imports shared helpers (``adapters.cli.common``, ``adapters.cli.demo_scenario``) but never
another command module; ``tests/unit/test_layering.py`` holds them to that.
"""
