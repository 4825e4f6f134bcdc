# The two Quickstart commands (README): `make reproduce` and `make test`. Both are idempotent.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup reproduce test test-fast performance clean-venv

# The virtual environment is rebuilt only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'" >&2; exit 2; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Offline `dvc plots show`: DVC's page with the Vega libraries inlined (from npm, once).
.dvc/plots/offline.html: scripts/vendor_vega
	scripts/vendor_vega

setup: $(VENV)/.installed .dvc/plots/offline.html

## Set up and regenerate every result, figure and table on the embedded default data.
reproduce: setup
	$(BIN)/dvc repro

## Set up and run the whole test suite (unit tests, the browser test of the human-study page,
## and one slow end-to-end dvc repro on tiny params).
test: setup
	scripts/ensure_chromium
	$(BIN)/python -m pytest

## Unit tests only (seconds).
test-fast: setup
	$(BIN)/python -m pytest -m 'not slow'

## Rewrite the README Performance table from the benchmark records in results/benchmarks/
## (after running a benchmark; the records are made by hand, not by `dvc repro`).
performance: setup
	$(BIN)/python -m i2pa_core.stages.performance

clean-venv:
	rm -rf $(VENV)
