# Data & Quartiers — two commands from a fresh clone: `make serve` and `make test`.
# Everything else is set up here: the virtualenv, the pinned Python packages, the vendored
# front-end assets (npm), the package in editable mode.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PORT ?= 8000
BOOK_BUILD := $(BIN)/jupyter-book build --all -W -n --keep-going .

.PHONY: setup site serve test bench clean vendor check-catalogue datasets help
help:
	@echo "make serve   set up, build the book and serve it on http://127.0.0.1:$(PORT)"
	@echo "make test    set up, then run every test (build gate, labs, browser)"
	@echo "make site    set up and build the site into _build/html (no server)"
	@echo "make bench   print build figures (medians of several runs)"

# --- set-up ---------------------------------------------------------------------------------
$(VENV)/.requirements: requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

node_modules/.dq-installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

dataquartiers/_vendor/.done: node_modules/.dq-installed $(VENV)/.requirements dataquartiers/vendor.py
	$(PY) -m dataquartiers.vendor
	@touch $@

setup: $(VENV)/.requirements dataquartiers/_vendor/.done

vendor: dataquartiers/_vendor/.done

# --- the book -------------------------------------------------------------------------------
site: setup
	$(BOOK_BUILD)

serve: site
	@echo "Le livre est servi sur http://127.0.0.1:$(PORT) (Ctrl-C pour arrêter)"
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

# --- checks ---------------------------------------------------------------------------------
test: setup
	$(PY) -m pytest tests

bench: setup
	$(PY) -m dataquartiers.bench

datasets:
	$(PY) -m dataquartiers.prepare

clean:
	rm -rf _build
