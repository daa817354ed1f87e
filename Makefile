# Finds a Python >= 3.12 (pyenv's 3.12.1 on these machines), builds .venv and installs bayes_mmm.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= $(shell for c in python3.13 python3.12 python3; do \
	  for p in "PYENV_VERSION=3.12.1 $$c" "$$c"; do \
	    if env $$p -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then echo "env $$p"; exit 0; fi; \
	  done; done)

.PHONY: venv demo test test-slow lint format clean wheel-check notebooks-full notebooks-wheel typecheck docs \
	notebook-progress-screenshot

$(VENV)/.installed: pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "error: no Python >= 3.12 found (try: pyenv install 3.12)"; exit 1; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,baselines,notebooks,docs,mlflow]'
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(PY) -m bayes_mmm.demo

test: venv
	$(PY) -m pytest -q -n 2

test-slow: venv
	$(PY) -m pytest -q -m slow

lint: venv
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

# Every notebook top to bottom at its own defaults (hours, not for CI); writes each fit's
# convergence gates, coverage of the truth and wall time to notebooks/SUMMARY.md.
notebooks-full: venv
	$(PY) scripts/run_notebooks_full.py $(ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache dist build site .mypy_cache

# mypy over bayes_mmm/ with [tool.mypy] in pyproject.toml.
typecheck: venv
	$(VENV)/bin/mypy

# The documentation site into site/, offline, every warning an error (a broken
# cross-reference included); notebooks and benchmark reports come in through docs/hooks.py.
docs: venv
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

# docs/screenshots/notebook_progress.png: a live JupyterLab run (headless Chromium) of a
# notebook whose optimizer shows its bar (about 1-2 min; needs the `screenshots` extra).
notebook-progress-screenshot: venv
	$(PY) -c 'import jupyterlab' 2>/dev/null || $(PY) -m pip install -q 'jupyterlab>=4'
	env -u CI $(PY) scripts/notebook_progress_screenshot.py

# Builds the wheel into dist/, installs it into a fresh virtualenv in a temporary directory
# and runs `bayes-mmm demo` from an empty directory there (needs PyPI for the dependencies).
# Extra demo flags: make wheel-check ARGS="--no-prior"; KEEP=1 keeps the temporary directory.
# CI runs: ALLOW_UNCONVERGED=1 make wheel-check ARGS="--config demo_geo_panel_quick --draws 200 --no-prior"
wheel-check:
	@if [ -z "$(PYTHON)" ]; then echo "error: no Python >= 3.12 found (try: pyenv install 3.12)"; exit 1; fi
	PYTHON="$(PYTHON)" bash scripts/check_wheel.sh $(ARGS)

# The notebooks against the wheel (not in CI): built and installed without the notebooks
# extra, each notebook must stop in its first cell with the one-line install hint; with the
# extra, in a second fresh virtualenv, every notebook runs at CI size from a copy of
# notebooks/ outside the repository (FULL=1: at its defaults). ARGS="--plain-only" skips the
# second part; ARGS="01 03" runs some notebooks; KEEP=1 keeps the temporary directory.
notebooks-wheel:
	@if [ -z "$(PYTHON)" ]; then echo "error: no Python >= 3.12 found (try: pyenv install 3.12)"; exit 1; fi
	PYTHON="$(PYTHON)" bash scripts/check_wheel.sh --notebooks $(ARGS)

# Speed benchmark against PyMC-Marketing 1.3.0, which lives in its own venv (.venv-bench).
# Extra arguments: make bench-pmm ARGS="--chains 4 --draws 1000 --tune 1000 --only bayes_mmm"
.PHONY: bench-pmm
BENCH_VENV := .venv-bench

$(BENCH_VENV)/.installed:
	@if [ -z "$(PYTHON)" ]; then echo "error: no Python >= 3.12 found (try: pyenv install 3.12)"; exit 1; fi
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q pymc-marketing==1.3.0 nutpie
	touch $@

bench-pmm: venv $(BENCH_VENV)/.installed
	$(PY) benchmarks/bench_pmm.py $(ARGS)
