# Entry points (see README): `make demo`, `make test`, and `make docs` (documentation site).
# Each creates .venv on first use and installs the project from its own files.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export HF_UPDATE_DOWNLOAD_COUNTS := 0
export TRANSFORMERS_OFFLINE := 1
# mkdocs-material prints a banner about its successor on every build; the build does not need it
export NO_MKDOCS_2_WARNING := 1

.PHONY: demo test test-min lint bench bench-quick docs docs-serve clean

$(BIN)/.installed: pyproject.toml setup.py fingerprint/features/_cgrams.c
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet -e ".[dev,embeddings]"
	touch $@

# docs tools on top of the dev install (a separate stamp: `make test` does not need them)
$(BIN)/.docs-installed: $(BIN)/.installed pyproject.toml
	$(BIN)/python -m pip install --quiet -e ".[dev,embeddings,docs]"
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python -m fingerprint.cli demo

test: $(BIN)/.installed
	$(BIN)/ruff check fingerprint tests benchmarks docs
	$(BIN)/mypy
	$(BIN)/python -m pytest

# the fast tests on the oldest Python and the lowest dependency versions pyproject.toml allows
# (.ci/min-versions.txt), in a fresh .venv-min; matplotlib for the plots, no other extra (the Dask and
# embedding tests skip)
PY_MIN ?= python3.10
test-min:
	rm -rf .venv-min
	$(PY_MIN) -m venv .venv-min
	.venv-min/bin/python -m pip install --quiet --upgrade pip
	.venv-min/bin/python -m pip install --quiet -c .ci/min-versions.txt -e . pytest hypothesis pyarrow matplotlib
	.venv-min/bin/python -m pytest -m "not slow" -p no:cacheprovider

bench-quick: $(BIN)/.installed
	$(BIN)/python benchmarks/run.py --quick

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/run.py
	$(BIN)/python benchmarks/audit_students.py
	$(BIN)/python benchmarks/builtin_load.py
	$(BIN)/python benchmarks/explain_speed.py

# strict: broken links, unknown references and docstring warnings fail; executes docs/examples/*.py
docs: $(BIN)/.docs-installed
	$(BIN)/mkdocs build --strict

docs-serve: $(BIN)/.docs-installed
	$(BIN)/mkdocs serve

clean:
	rm -rf $(VENV) .venv-min .pytest_cache .ruff_cache .mypy_cache .hypothesis site
