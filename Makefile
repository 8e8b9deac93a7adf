# Two entry points (see README): `make demo` and `make test`.
# Each creates .venv on first use and installs the project from its own files.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export HF_UPDATE_DOWNLOAD_COUNTS := 0
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test lint bench bench-quick clean

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python -m fingerprint.cli demo

test: $(BIN)/.installed
	$(BIN)/ruff check fingerprint tests benchmarks
	$(BIN)/python -m pytest

bench-quick: $(BIN)/.installed
	$(BIN)/python benchmarks/run.py --quick

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/audit_students.py
	$(BIN)/python benchmarks/builtin_load.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
