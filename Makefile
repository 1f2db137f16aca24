# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-spark lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/trade-ledger demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

test-spark: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	$(BIN)/pytest -q -m spark

bench: $(STAMP)
	$(BIN)/python bench/record_fills.py
	$(BIN)/python bench/build_views.py
	$(BIN)/python bench/archive.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
