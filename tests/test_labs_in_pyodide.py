"""Every lab's code, cell by cell, in a real Pyodide with pandas, in Chromium, network off.

The harness (`pyodide_real.py`) builds a JupyterLite 0.6 site of the labs' browser copies with the
official Pyodide 0.27.7 files (each checked by sha256 against the npm package's lock before use)
and runs each lab's code cells in its kernel. What this proves: the labs' pandas code, the
package `dataquartiers` and its pure dependencies (folium, ipywidgets, PyYAML…) run in a browser's
Python, reading the lab's data from the site, with no request leaving 127.0.0.1. What it cannot:
statements that need geopandas, shapely or pyproj (no build for Pyodide here) are skipped, and
recorded with that reason, and so is what only they define. Pyodide 0.27 is not the book's
Pyodide 314 (Python 3.12 and pandas 2.2 instead of 3.14 and pandas 3): see the kit chapter.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest

import pyodide_real
from browser import chromium_available, offline_page
from conftest import REPO, serve_folder
from booktools import lab_copies, notebooks

LABS = notebooks.lab_notebooks(REPO)
ARTIFACTS = REPO / "_build" / "test-artifacts"
CHAPTER = REPO / "chapters" / "kit-hors-ligne.md"

needs_harness = pytest.mark.skipif(pyodide_real.ready() is not None or not chromium_available(),
                                   reason=pyodide_real.ready() or "needs Debian chromium")


@pytest.fixture(scope="module")
def harness_site(site, tmp_path_factory):
    links = lab_copies.BookLinks.of_site(site, lab_copies.site_address(REPO))
    out = tmp_path_factory.mktemp("pyodide-0.27") / "site"
    info = pyodide_real.build_site(out, links)
    with serve_folder(out) as url:
        yield url, info


@pytest.fixture(scope="module")
def lab_runs(harness_site):
    """Every lab run once (one kernel for all: see pyodide_real.run_labs)."""
    url, _ = harness_site
    with offline_page() as (page, traffic):
        runs = pyodide_real.run_labs(url, [f"labs/{nb.name}" for nb in LABS], page, traffic)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "labs-pyodide-0.27.json").write_text(pyodide_real.as_json(runs), encoding="utf-8")
    print("\nLabs dans Pyodide 0.27.7 (Chromium, réseau coupé) :\n" + pyodide_real.report_markdown(runs))
    return {run.lab: run for run in runs}


@needs_harness
def test_the_harness_uses_only_checked_official_files(harness_site):
    _, info = harness_site
    # pandas and numpy come from the checked distribution; geopandas & co. are absent, as said
    assert {"pandas", "numpy", "dataquartiers", "folium", "ipywidgets", "pyyaml", "markupsafe"} <= set(info["lock"]["packages"])
    assert not {"geopandas", "shapely", "pyproj"} & set(info["lock"]["packages"])


@needs_harness
@pytest.mark.parametrize("notebook", LABS, ids=lambda p: p.stem)
def test_every_non_geographic_cell_of_the_lab_runs(notebook, lab_runs):
    run = lab_runs[notebook.stem]
    assert run.error is None, f"{notebook.stem}: {run.error}"
    assert run.external_requests == [], run.external_requests
    assert run.cells, f"{notebook.stem}: no code cell was run"
    failed = [f"cellule {c.number}: {'; '.join(c.errors)}" for c in run.cells if c.status == "failed"]
    assert not failed, f"{notebook.stem}: " + "\n".join(failed)
    for cell in run.cells:
        if cell.status in ("skipped", "partly"):
            assert cell.reasons and all("Pyodide 0.27" in r or "instruction sautée" in r for r in cell.reasons), cell
    # the parameters cell and the imports of pandas always run: the harness is not vacuous
    assert run.cells[0].status == "ran"
    assert run.first_pandas_cell_s is not None, f"{notebook.stem}: no pandas cell ran"


@needs_harness
def test_the_kit_chapter_reports_what_ran(lab_runs):
    """« Ce qui est vérifié… » gives, per lab, the counts of this run: update it when they change."""
    text = CHAPTER.read_text(encoding="utf-8")
    for stem, run in lab_runs.items():
        expected = (f"| `{stem}` | {len(run.cells)} | {run.count('ran')} | {run.count('partly')} | "
                    f"{run.count('skipped')} |")
        assert expected in text, f"{CHAPTER.name}: la ligne du lab {stem} doit être : {expected}"


# --- the sha256 check itself --------------------------------------------------------------------


def _fake_provisa(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(pyodide_real.PROVISA_DIR + name, data)
    return path


@pytest.mark.skipif(not (pyodide_real.NPM_PYODIDE / "pyodide-lock.json").exists(), reason="npm ci not run")
def test_a_file_that_differs_from_the_npm_lock_is_refused(tmp_path):
    lock = json.loads((pyodide_real.NPM_PYODIDE / "pyodide-lock.json").read_text())
    six = lock["packages"]["six"]["file_name"]
    core = {name: (pyodide_real.NPM_PYODIDE / name).read_bytes()
            for name in ("pyodide.mjs", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")}
    wheel = _fake_provisa(tmp_path / "provisa.whl", {**core, six: b"not the official wheel"})
    with pytest.raises(pyodide_real.HarnessError, match=re.escape(f"sha256 différent du lock npm pyodide@0.27.7 pour {six}")):
        pyodide_real.checked_distribution(tmp_path / "dist", wheel)
    wheel = _fake_provisa(tmp_path / "provisa2.whl", {**core, "pyodide.asm.wasm": b"\0asm tampered"})
    with pytest.raises(pyodide_real.HarnessError, match="pyodide.asm.wasm absent ou différent"):
        pyodide_real.checked_distribution(tmp_path / "dist", wheel)


def test_purified_wheel_is_pure_python(tmp_path):
    """MarkupSafe's platform wheel becomes a py3-none-any wheel without its compiled speed-up."""
    src = tmp_path / "markupsafe-3.0.4-cp312-cp312-manylinux_2_17_x86_64.whl"
    with zipfile.ZipFile(src, "w") as zf:
        zf.writestr("markupsafe/__init__.py", "x = 1\n")
        zf.writestr("markupsafe/_speedups.cpython-312-x86_64-linux-gnu.so", b"\x7fELF")
        zf.writestr("markupsafe-3.0.4.dist-info/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp312-cp312-manylinux_2_17_x86_64\n")
        zf.writestr("markupsafe-3.0.4.dist-info/RECORD", "")
    pure = pyodide_real.purify(src, tmp_path)
    assert pure.name == "markupsafe-3.0.4-py3-none-any.whl"
    with zipfile.ZipFile(pure) as zf:
        assert not any(n.endswith(".so") for n in zf.namelist())
        wheel = zf.read("markupsafe-3.0.4.dist-info/WHEEL").decode()
        assert "Root-Is-Purelib: true" in wheel and wheel.strip().endswith("Tag: py3-none-any")
        assert "markupsafe/__init__.py,sha256=" in zf.read("markupsafe-3.0.4.dist-info/RECORD").decode()


def test_a_skip_needs_a_geographic_reason():
    ok = {"status": "ok", "outputs": []}
    geo = {"status": "error", "outputs": [{"type": "error", "ename": "<class 'ModuleNotFoundError'>",
                                           "evalue": "No module named 'geopandas'"}]}
    name = {"status": "error", "outputs": [{"type": "error", "ename": "NameError", "evalue": "name 'iris' is not defined"}]}
    other = {"status": "error", "outputs": [{"type": "error", "ename": "KeyError", "evalue": "'x'"}]}
    assert pyodide_real._classify(ok, set()) == ("ran", "")
    assert pyodide_real._classify(geo, set())[0] == "skipped"
    assert pyodide_real._classify(name, {"iris"})[0] == "skipped"
    assert pyodide_real._classify(name, set())[0] == "failed"   # not defined by a skipped statement
    assert pyodide_real._classify(other, set())[0] == "failed"
