"""I/O and wiring: archives (S3, local), alpaca-py mapping, executor, settings, CLI."""
