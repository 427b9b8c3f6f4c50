"""Lab bundles: the zip of every lab runs on its own, in an empty folder with a fresh virtualenv.

The slow test installs the bundle's requirements into one new virtualenv (pip's cache makes the
second run quick), unzips each bundle separately into an empty folder and executes the notebook
there with nbclient: no file of the repository can be reached (the package comes from the
bundle's wheel, the data from the bundle's `datasets/`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
from dataquartiers import bundles, lite

KNOWN = {"communes", "epci_communes", "rennes_iris_population", "qpv2015_ille_et_vilaine"}


def nb(*sources: str) -> dict:
    return {"cells": [{"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
                      for s in sources], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


# --- which data a lab reads -----------------------------------------------------------------

def test_literal_names_and_territory_are_found():
    needs = bundles.datasets_read(nb("from dataquartiers.data import load",
                                     "x = load('rennes_iris_population', territory='35238')"), KNOWN)
    assert needs.resources == ["rennes_iris_population"] and needs.territory is True


def test_names_bound_in_the_notebook_and_module_calls_are_found():
    needs = bundles.datasets_read(nb("import dataquartiers.data as dq\nfrom dataquartiers import data",
                                     "JEU = 'communes'\nfor n in ('epci_communes',):\n    data.load(n)",
                                     "dq.load(JEU)"), KNOWN)
    assert needs.resources == ["communes", "epci_communes"] and needs.territory is False


def test_json_load_and_magics_are_ignored():
    needs = bundles.datasets_read(nb("%matplotlib inline\nimport json\njson.load(open('x.json'))"), KNOWN)
    assert needs.resources == [] and needs.files == []


def test_datasets_read_inside_package_functions_are_found():
    """`qpv_contours()` reads the QPV contour datasets it lists (dataquartiers/layers.py)."""
    known = KNOWN | {"qpv2015_marseille", "qpv2015_occitanie"}
    needs = bundles.datasets_read(nb("from dataquartiers.layers import qpv_contours",
                                     "qpv = qpv_contours('13055')"), known)
    assert {"qpv2015_ille_et_vilaine", "qpv2015_marseille", "qpv2015_occitanie"} <= set(needs.resources)
    assert needs.territory is True


def test_a_name_that_cannot_be_known_statically_is_an_error_naming_the_cell():
    with pytest.raises(bundles.BundleError) as err:
        bundles.datasets_read(nb("from dataquartiers.data import load", "load(input())"), KNOWN, where="labs/x.ipynb")
    assert str(err.value).startswith("labs/x.ipynb: cell 2: the dataset of `load(input())` cannot be found "
                                     "without running the lab")


def test_an_unknown_dataset_is_an_error():
    with pytest.raises(bundles.BundleError, match=r"labs/x.ipynb: cell 1: load\(\) of unknown dataset\(s\) nope "
                                                  r"\(not in datasets/datapackage.json\)"):
        bundles.datasets_read(nb("from dataquartiers.data import load\nload('nope')"), KNOWN, where="labs/x.ipynb")


def test_a_cell_that_is_not_python_is_an_error():
    with pytest.raises(bundles.BundleError, match=r"labs/x.ipynb: cell 1: not valid Python \(line 1\)"):
        bundles.datasets_read(nb("def f(:"), KNOWN, where="labs/x.ipynb")


# --- the zips of the built site ------------------------------------------------------------

@pytest.fixture(scope="module")
def site_bundles(site) -> dict[str, Path]:
    return {p.stem: p for p in sorted((site / bundles.BUNDLES_DIR).glob("*.zip"))}


def test_every_lab_has_a_bundle(site_bundles):
    assert set(site_bundles) == {p.stem for p in lite.lab_notebooks(REPO)}


@pytest.mark.parametrize("notebook", lite.lab_notebooks(REPO), ids=lambda p: p.stem)
def test_bundle_holds_the_notebook_exactly_its_data_and_a_readme(notebook, site_bundles):
    stem = notebook.stem
    with zipfile.ZipFile(site_bundles[stem]) as zf:
        names = set(zf.namelist())
        package = json.loads(zf.read(f"{stem}/datasets/datapackage.json"))
        readme = zf.read(f"{stem}/LISEZMOI.md").decode()
        requirements = zf.read(f"{stem}/requirements.txt").decode()
        bundled_nb = json.loads(zf.read(f"{stem}/{stem}.ipynb"))
    assert bundled_nb["cells"] == json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    needs, carried = bundles.lab_data_needs(notebook, REPO)
    assert sorted(r["name"] for r in package["resources"]) == carried
    assert set(needs.resources) <= set(carried) and set(carried) - set(needs.resources) <= set(bundles.TERRITORY_TABLES)
    data_files = {n for n in names if n.startswith(f"{stem}/datasets/") and not n.endswith("datapackage.json")}
    assert data_files == {f"{stem}/datasets/{r['path']}" for r in package["resources"]}
    wheels = [n for n in names if n.startswith(f"{stem}/wheels/")]
    assert len(wheels) == 1 and wheels[0].endswith("-py3-none-any.whl")
    assert f"./wheels/{wheels[0].rsplit('/', 1)[1]}" in requirements.splitlines()
    for pinned in ("pandas==", "geopandas==", "ipykernel==", "jupyterlab=="):
        assert any(line.startswith(pinned) for line in requirements.splitlines()), f"{stem}: {pinned} not pinned"
    # the README: three commands, another territory, the licences (unverified ones said so)
    assert f".venv/bin/jupyter lab {stem}.ipynb" in readme and "pip install -r requirements.txt" in readme
    assert "## Adapter le lab à un autre territoire" in readme and "## Licences des données" in readme
    for res in package["resources"]:
        assert f"`{res['name']}`" in readme
        if res.get("licence_status") == "unverified":
            row = next(line for line in readme.splitlines() if line.startswith(f"| `{res['name']}`"))
            assert "non vérifiée" in row


def test_bundles_are_reproducible(tmp_path):
    """Same inputs, same bytes (fixed timestamps): a rebuilt site does not change its zips."""
    first = bundles.build_bundle(REPO / "labs" / "prise-en-main.ipynb", tmp_path / "a", REPO)
    second = bundles.build_bundle(REPO / "labs" / "prise-en-main.ipynb", tmp_path / "b", REPO)
    assert first.read_bytes() == second.read_bytes()


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("bundle-venv") / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    return venv


def _unzip(bundle: Path, into: Path) -> Path:
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(into)
    return into / bundle.stem


RUNNER = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
bad = []
for i, cell in enumerate(nb.cells):
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            bad.append(f"cell {i}: {out.ename}: {out.evalue}")
        elif out.output_type == "stream" and out.name == "stderr":
            bad.append(f"cell {i} writes to stderr: {out.text[:300]}")
print("\\n".join(bad) if bad else "OK")
"""


@pytest.mark.parametrize("notebook", lite.lab_notebooks(REPO), ids=lambda p: p.stem)
def test_bundle_runs_alone_in_a_fresh_virtualenv(notebook, site_bundles, fresh_venv, tmp_path):
    folder = _unzip(site_bundles[notebook.stem], tmp_path / "empty")
    pip = [str(fresh_venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    proc = subprocess.run(pip + ["-r", "requirements.txt"], cwd=folder, capture_output=True, text=True)
    assert proc.returncode == 0, f"pip install -r requirements.txt failed:\n{proc.stderr[-3000:]}"
    # the test's own harness (not the lab's): nbclient, at the book's pinned version
    subprocess.run(pip + [next(l for l in (REPO / "requirements.txt").read_text().splitlines()
                               if l.startswith("nbclient=="))], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DQ_DATASETS", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{fresh_venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    runner = tmp_path / "run.py"
    runner.write_text(RUNNER)
    proc = subprocess.run([str(fresh_venv / "bin" / "python"), str(runner), f"{notebook.stem}.ipynb", str(folder)],
                          cwd=folder, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, f"{notebook.stem}: the bundle's notebook failed:\n{proc.stderr[-4000:]}"
    assert proc.stdout.strip().splitlines()[-1] == "OK", proc.stdout[-3000:]
    # the package came from the bundle's wheel, not from the repository
    where = subprocess.run([str(fresh_venv / "bin" / "python"), "-c", "import dataquartiers; print(dataquartiers.__file__)"],
                           capture_output=True, text=True, cwd=folder, env=env).stdout
    assert str(fresh_venv) in where and str(REPO) not in where


# Two static analyses find what a lab reads: the zip's (bundles.datasets_read) and the ethics
# check's (ethics.datasets_read_by). Until they become one, they must agree on every lab: a
# dataset the zip forgets breaks the lab at home, one the assessment forgets escapes the check.
@pytest.mark.parametrize("notebook", lite.lab_notebooks(REPO), ids=lambda p: p.stem)
def test_the_zip_and_the_ethics_check_see_the_same_datasets(notebook):
    from dataquartiers import ethics
    from dataquartiers.data import resources

    seen_by_ethics, problems = ethics.datasets_read_by(notebook, readers=ethics.package_readers(resources()))
    assert not problems
    assert set(seen_by_ethics) == set(bundles.lab_data_needs(notebook, REPO)[0].resources)
