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
from booktools import bundles, notebooks

# --- the zips of the built site ------------------------------------------------------------

@pytest.fixture(scope="module")
def site_bundles(site) -> dict[str, Path]:
    return {p.stem: p for p in sorted((site / bundles.BUNDLES_DIR).glob("*.zip"))}


def test_every_lab_has_a_bundle(site_bundles):
    assert set(site_bundles) == {p.stem for p in notebooks.lab_notebooks(REPO)}


@pytest.mark.parametrize("notebook", notebooks.lab_notebooks(REPO), ids=lambda p: p.stem)
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


@pytest.mark.parametrize("notebook", notebooks.lab_notebooks(REPO), ids=lambda p: p.stem)
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
