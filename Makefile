# Two commands do all set-up on a fresh machine:
#   make run    start Hoist on the embedded default (SQLite + blobs under ./hoist-data, 127.0.0.1:8080,
#               blob downloads on :8081; it prints both URLs)
#   make test   install the dev tools, then lint, type-check, check the layer contracts and run every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SOURCES := src tests scripts bench

.PHONY: run test lint demo bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/hoist serve

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

test: lint
	$(BIN)/pytest -n auto --cov --cov-report=term:skip-covered

demo: $(VENV)/.installed
	$(BIN)/python scripts/demo.py

bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .coverage* hoist-data
