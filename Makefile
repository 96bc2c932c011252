# The template's commands: `make demo`, `make test` and, for the inner loop, `make test-fast`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
MOTO_VENV := .cache/moto-venv
# Mermaid's own parser, for the charts the generated project writes (tests/test_mermaid.py).
MERMAID := tests/mermaid/node_modules/.installed
PYTEST_ARGS ?=
# One test worker more than cores: a fifth of the time a worker waits (a server
# starting, act between jobs, the package index), and the extra one fills it.
# Each test module stays on one worker, so a story it shares is built once, and
# the modules start in the order tests/conftest.py gives (MODULE_ORDER).
# PARALLEL= runs everything in one process.
WORKERS ?= $(shell $(PYTHON) -c 'import os; print(os.cpu_count() + 1)')
PARALLEL ?= -n $(WORKERS) --dist loadscope --no-loadscope-reorder
export BENTOML_DO_NOT_TRACK := true
export UV_PYTHON_DOWNLOADS := never
# Python's own default, whatever this machine's environment says: a process that may
# not write its bytecode cache compiles every module it imports, every time. The
# suite starts hundreds of Python processes (dvc, the CLI, servers, act's jobs), and
# recompiling scikit-learn, pandas and BentoML in each cost a quarter of its CPU.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help demo test test-fast tools lock bench bench-rollback bench-image clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

demo: tools ## Bake a project with the default answers and run its whole story
	$(BIN)/python scripts/demo.py

test: tools $(MOTO_VENV)/.installed $(MERMAID) ## Run the template's tests (the run CI does)
	$(BIN)/pytest $(PARALLEL) $(PYTEST_ARGS)

# Everything but the slow tests (nothing trains, builds or serves): hooks, the bake
# matrix, the workflows' security lint and triggers, the Kubernetes rendering.
test-fast: tools $(MERMAID) ## The inner loop, under 90 s: `make test` without the slow tests
	$(BIN)/pytest -m "not slow and not exhaustive" $(PARALLEL) $(PYTEST_ARGS)

tools: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip sync --quiet --python $(BIN)/python --require-hashes requirements-dev.lock
	@touch $@

$(MOTO_VENV)/.installed: requirements-moto.lock
	@test -x $(MOTO_VENV)/bin/python || $(PYTHON) -m venv $(MOTO_VENV)
	$(BIN)/uv pip sync --quiet --python $(MOTO_VENV)/bin/python --require-hashes requirements-moto.lock
	@touch $@

$(MERMAID): tests/mermaid/package-lock.json
	cd tests/mermaid && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

bench: tools ## Time baking, the first and a no-op `dvc repro`; size of the project
	$(BIN)/python benchmarks/bench_bake.py

bench-rollback: tools ## Time deploys and rollback (warm against cold) on the local target
	$(BIN)/python benchmarks/bench_rollback.py

bench-image: tools ## Image build time, size, `podman run` to ready (the script's --cold: base too)
	$(BIN)/python benchmarks/bench_image.py

lock: tools ## Re-resolve the template's and the generated project's pins
	$(BIN)/uv pip compile requirements-dev.in --python-version 3.11 --generate-hashes --no-header --quiet -o requirements-dev.lock
	$(BIN)/uv pip compile requirements-moto.in --python-version 3.11 --generate-hashes --no-header --quiet -o requirements-moto.lock
	cd '{{cookiecutter.project}}' && $(BIN)/uv pip compile requirements.in --universal --python-version 3.11 \
		--generate-hashes --no-header --quiet -o requirements.lock

clean: ## Remove environments, caches and demo output
	rm -rf $(VENV) .cache build .pytest_cache
