# The two commands of the README, and what CI runs (.ci/run calls `make test`).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
MENAGERIE_ROOT ?= $(abspath ../shared/menagerie)
export MENAGERIE_ROOT
export MUJOCO_GL ?= egl

.PHONY: setup demo test test-fast bench datasets clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e ".[dev,rl,video,minari]"
	touch $(STAMP)

## the main job on a small default: collect, train, evaluate, plot
demo: setup
	$(BIN)/mosim demo

## the whole test suite (slow learning checks included)
test: setup
	$(BIN)/python -m pytest -q

## fast tests only
test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

datasets: setup
	$(BIN)/python scripts/make_datasets.py

bench: setup
	$(BIN)/python benchmarks/collect_throughput.py

clean:
	rm -rf $(VENV) runs .pytest_cache
