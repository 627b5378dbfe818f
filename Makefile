# The README's two commands are `make demo` and `make test`; every target
# installs what it needs on first use (a .venv, Debian packages, and through
# `orion stack up` the cached Kafka, registry and versitygw).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-airflow test-cluster lint check bench chaos stack-up stack-down deps venv clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

deps: venv
	@bash deploy/local/install-debian-packages.sh

stack-up: deps
	$(BIN)/orion stack up

stack-down: venv
	$(BIN)/orion stack down

# The main job end to end: DEMO_EVENTS=N changes the size (default 100000).
demo: stack-up
	$(BIN)/orion demo

# Airflow's DAG tests run in the parallel pass beside the rest (the first run installs
# Airflow into its own venv in the download cache, about 3 minutes; later runs reuse it).
test: deps
	$(BIN)/orion stack up --with airflow
	promtool check rules deploy/prometheus/rules/*.yml
	promtool test rules deploy/prometheus/tests/*.yml
	$(BIN)/pytest -n 2 --dist loadfile -m "not cluster and not serial"
	$(BIN)/pytest -m "serial and not cluster"

# Only the DAGs against the stack's Airflow (they are part of make test too).
test-airflow: deps
	$(BIN)/orion stack up --with airflow
	$(BIN)/pytest -m airflow tests/deploy/airflow

# A broker SIGKILLed mid-run on a three-node cluster the test starts beside the
# stack (about 3 minutes; not in make test for CI time).
test-cluster: deps
	$(BIN)/orion stack up
	$(BIN)/pytest -m cluster

# Static checks only: lint needs no running service.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check orion orionctl producers stream_processors sinks tests bench
	$(BIN)/mypy orion orionctl producers stream_processors sinks tests bench

check: lint stack-up
	$(BIN)/orion schemas check  # every .avsc BACKWARD-compatible with the registry

# Run as modules (python -m bench.x), so bench/producers.py never shadows the
# producers package on sys.path. The chaos drill is `make chaos`, not a benchmark.
bench: stack-up
	@for b in bench/[a-z]*.py; do m=$$(basename $$b .py); [ $$m = chaos ] && continue; \
	  echo "== bench.$$m"; $(BIN)/python -m bench.$$m || exit 1; done

# 15 minutes at 2,500 events/s with a fault a minute, after a fault-free reference
# run of the same seed (about 30 minutes in all); prints the faults and the checks.
chaos: stack-up
	$(BIN)/python -m bench.chaos

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
