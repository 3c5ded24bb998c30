# The two commands of the README: `make demo` and `make test`. Both set up a local
# virtualenv (.venv) from pyproject.toml and build the extension in release mode.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS_STAMP := $(VENV)/.deps-installed
# Cargo profile of the extension: release (stripped), profiling (symbols) or quick.
PROFILE ?= release

.PHONY: all setup build demo test test-rust test-python fuzz-smoke lint bench clean

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall the Python tooling when pyproject.toml changes.
$(DEPS_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "maturin>=1.9,<2" "numpy>=1.21" \
		"labelbox[data]==7.17.0" "pytest>=8" "pytest-benchmark>=4" "hypothesis>=6" \
		"orjson>=3.9" "pycocotools>=2.0" "supervision>=0.20" "ruff>=0.6" "mypy>=1.11,<2" \
		"pyarrow>=14" "polars>=1" "duckdb>=1.1" \
		"pyspark[pandas_on_spark]>=3.5" "pandas>=1.5,<3" "ray[data]>=2.9"
	touch $@

setup: $(DEPS_STAMP)

build: setup
	VIRTUAL_ENV=$(abspath $(VENV)) $(BIN)/maturin develop --profile $(PROFILE) --quiet

demo: build
	$(BIN)/python scripts/demo.py

test: build test-rust test-python fuzz-smoke lint

test-rust:
	cargo test -p lbfast-core --quiet

# A short, seeded (so deterministic) stable run of every fuzz target in fuzz/src/lib.rs,
# unoptimised so that overflow checks are on; a crash fails the build. About 10 s
# once compiled. Longer runs: LBFAST_FUZZ_ITERS=1000000, or cargo-fuzz (fuzz/Cargo.toml).
FUZZ_SMOKE_ITERS ?= 6000
fuzz-smoke:
	cd fuzz && LBFAST_FUZZ_ITERS=$(FUZZ_SMOKE_ITERS) cargo test --quiet

test-python: build
	$(BIN)/python -m pytest -q tests

lint: setup
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --quiet -- -D warnings
	$(BIN)/ruff check python tests benches scripts
	$(BIN)/ruff format --check python tests benches scripts
	$(BIN)/python -m mypy --strict python/lbfast
	$(BIN)/python -m mypy.stubtest lbfast._core

bench: build
	$(BIN)/python benches/summary.py

clean:
	cargo clean
	rm -rf $(VENV) python/lbfast/*.so
