"""Lab bundles: the zip of every lab reads like the book and runs on its own, in an empty folder
with a fresh virtualenv.

The slow test unzips each bundle separately into an empty folder, installs its requirements into
one new virtualenv **with pip run from the parent folder** (as a participant who unzipped it in
Downloads would) from the wheels `make setup` downloaded (`--no-index`: no download at test
time), checks the sizes its README announces, and executes the notebook there with nbclient: no
file of the repository can be reached (the package comes from the bundle's wheel, the data from
the bundle's `datasets/`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
from booktools import bundles, lab_copies, notebooks

# --- the zips of the built site ------------------------------------------------------------

@pytest.fixture(scope="module")
def site_bundles(site) -> dict[str, Path]:
    return {p.stem: p for p in sorted((site / bundles.BUNDLES_DIR).glob("*.zip"))}


def test_every_lab_has_a_bundle(site_bundles):
    assert set(site_bundles) == {p.stem for p in notebooks.lab_notebooks(REPO)}


@pytest.mark.parametrize("notebook", notebooks.lab_notebooks(REPO), ids=lambda p: p.stem)
def test_bundle_holds_the_notebook_exactly_its_data_and_a_readme(notebook, site_bundles, site):
    stem = notebook.stem
    with zipfile.ZipFile(site_bundles[stem]) as zf:
        names = set(zf.namelist())
        package = json.loads(zf.read(f"{stem}/datasets/datapackage.json"))
        readme = zf.read(f"{stem}/LISEZMOI.md").decode()
        requirements = zf.read(f"{stem}/requirements.txt").decode()
        bundled_nb = json.loads(zf.read(f"{stem}/{stem}.ipynb"))
    original = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    # code unchanged; Markdown adapted: no raw MyST, links absolute or to files of the zip
    assert [c["source"] for c in bundled_nb["cells"] if c["cell_type"] == "code"] == \
        [c["source"] for c in original if c["cell_type"] == "code"]
    address = lab_copies.site_address(REPO)
    for cell in bundled_nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        text = "".join(cell["source"])
        assert not lab_copies.raw_myst(text), f"{stem}: MyST left as text: {lab_copies.raw_myst(text)}"
        for target in re.findall(r"\]\(([^)\s]+)|href=\"([^\"]+)\"", text):
            target = target[0] or target[1]
            if target.startswith(address):
                page = target[len(address):].split("#")[0]
                assert (site / page).is_file(), f"{stem}: {target} is not a page of the built book"
            elif "://" not in target:
                assert f"{stem}/{target.split('#')[0]}" in names, f"{stem}: relative link {target} not in the zip"
    solutions = [c for c in bundled_nb["cells"] if "Solution" in "".join(c["source"]) and c["cell_type"] == "markdown"]
    assert all("<details>" in "".join(c["source"]) for c in solutions), f"{stem}: a solution is not folded"
    # « en bas de page »: the ethics assessment the book appends is referred to at the bottom
    assert bundled_nb["cells"][-1]["source"].startswith("## Évaluation éthique du lab")
    needs, carried = bundles.lab_data_needs(notebook, REPO)
    assert sorted(r["name"] for r in package["resources"]) == carried
    assert set(needs.resources) <= set(carried) and set(carried) - set(needs.resources) <= set(bundles.TERRITORY_TABLES)
    data_files = {n for n in names if n.startswith(f"{stem}/datasets/") and not n.endswith("datapackage.json")}
    assert data_files == {f"{stem}/datasets/{r['path']}" for r in package["resources"]}
    wheels = [n for n in names if n.startswith(f"{stem}/wheels/")]
    assert len(wheels) == 1 and wheels[0].endswith("-py3-none-any.whl")
    lines = requirements.splitlines()
    assert "--find-links wheels" in lines and any(line.startswith("dataquartiers==") for line in lines)
    # the licence texts of the code and of the content
    assert {f"{stem}/LICENCES/code-MIT.txt", f"{stem}/LICENCES/contenus-CC-BY-4.0.txt"} <= names
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


def test_bundles_are_reproducible(tmp_path, site):
    """Same inputs, same bytes (fixed timestamps): a rebuilt site does not change its zips."""
    links = bundles.default_links(REPO, site)
    first = bundles.build_bundle(REPO / "labs" / "prise-en-main.ipynb", tmp_path / "a", REPO, links=links)
    second = bundles.build_bundle(REPO / "labs" / "prise-en-main.ipynb", tmp_path / "b", REPO, links=links)
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


#: The test's harness in the fresh virtualenv: the lab's kernel is that virtualenv's Python (what a
#: participant has); the runner itself takes booktools.execution from the repository, as every
#: headless run of the book does (the Output-widget fix, a bounded cell), never the lab's code.
RUNNER = """
import sys, nbformat
from pathlib import Path
sys.path.append(sys.argv[3])
from booktools.execution import run_notebook
nb = nbformat.read(sys.argv[1], as_version=4)
run_notebook(nb, Path(sys.argv[2]), where=sys.argv[1])
bad = []
for i, cell in enumerate(nb.cells):
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            bad.append(f"cell {i}: {out.ename}: {out.evalue}")
        elif out.output_type == "stream" and out.name == "stderr":
            bad.append(f"cell {i} writes to stderr: {out.text[:300]}")
print("\\n".join(bad) if bad else "OK")
"""


def _megabytes(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def _downloaded_megabytes(venv: Path) -> float:
    """What pip downloads for the installed distributions: their wheels in the wheelhouse."""
    from packaging.utils import canonicalize_name, parse_wheel_filename

    listed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json",
                             "--disable-pip-version-check"], capture_output=True, text=True, check=True).stdout
    installed = {(canonicalize_name(d["name"]), d["version"]) for d in json.loads(listed)}
    total = 0
    for wheel in bundles.WHEELHOUSE.glob("*.whl"):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        if (name, str(version)) in installed:
            total += wheel.stat().st_size
    return total / 1e6


@pytest.mark.skipif(not bundles.WHEELHOUSE.is_dir(), reason="the zips' wheels are not downloaded: run `make setup`")
@pytest.mark.parametrize("notebook", notebooks.lab_notebooks(REPO), ids=lambda p: p.stem)
def test_bundle_runs_alone_in_a_fresh_virtualenv(notebook, site_bundles, fresh_venv, tmp_path):
    folder = _unzip(site_bundles[notebook.stem], tmp_path / "empty")
    pip = [str(fresh_venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--no-index", "--find-links", str(bundles.WHEELHOUSE)]
    # from the parent folder: the package's wheel is found beside requirements.txt all the same
    proc = subprocess.run(pip + ["-r", f"{folder.name}/requirements.txt"], cwd=folder.parent,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"pip install -r {folder.name}/requirements.txt failed:\n{proc.stderr[-3000:]}"
    # the sizes the README announces are true (within 15 %)
    sizes = bundles.INSTALL_SIZES
    downloaded, venv_size = _downloaded_megabytes(fresh_venv), _megabytes(fresh_venv)
    print(f"{notebook.stem}: {downloaded:.0f} MB of wheels, virtualenv {venv_size:.0f} MB")
    assert abs(downloaded - sizes["download_mb"]) <= 0.15 * sizes["download_mb"], downloaded
    assert abs(venv_size - sizes["venv_mb"]) <= 0.15 * sizes["venv_mb"], venv_size
    readme = (folder / "LISEZMOI.md").read_text(encoding="utf-8")
    assert f"environ {sizes['download_mb']} Mo" in readme and f"environ {sizes['venv_mb']} Mo" in readme
    # the test's own harness (not the lab's): nbclient, at the book's pinned version
    subprocess.run(pip + [next(l for l in (REPO / "requirements.txt").read_text().splitlines()
                               if l.startswith("nbclient=="))], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DQ_DATASETS", "PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{fresh_venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    runner = tmp_path / "run.py"
    runner.write_text(RUNNER)
    proc = subprocess.run([str(fresh_venv / "bin" / "python"), str(runner), f"{notebook.stem}.ipynb", str(folder), str(REPO)],
                          cwd=folder, capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, f"{notebook.stem}: the bundle's notebook failed:\n{proc.stderr[-4000:]}"
    assert proc.stdout.strip().splitlines()[-1] == "OK", proc.stdout[-3000:]
    # the package came from the bundle's wheel, not from the repository
    where = subprocess.run([str(fresh_venv / "bin" / "python"), "-c", "import dataquartiers; print(dataquartiers.__file__)"],
                           capture_output=True, text=True, cwd=folder, env=env).stdout
    assert str(fresh_venv) in where and str(REPO) not in where


# --- the LISEZMOI, without a build ----------------------------------------------------------------

def test_the_readme_gives_the_libraries_own_data_recipe_word_for_word():
    """One text: the recipe the own-data test follows (dataquartiers.data.OWN_DATA_RECIPE) is the one
    the zip's LISEZMOI prints; the template does not write a recipe of its own."""
    from dataquartiers import data

    notebook = REPO / "labs" / "non-recours-c2s.ipynb"
    package = data.package(REPO / "datasets")
    needs, _ = bundles.lab_data_needs(notebook, REPO, package)
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    readme = bundles.readme(notebook.stem, nb, package, REPO / "datasets", needs, "https://exemple.org/lab.html")
    assert data.OWN_DATA_RECIPE in readme
    assert readme.count("datasets/datapackage.json` : ajoutez") == 1
    template = (bundles.TOOLS_DIR / "templates" / "lisezmoi-lab.md.j2").read_text(encoding="utf-8")
    assert "Déclarez" not in template and "déclarez-le" not in template
    # where it speaks of territory codes, the recipe says what an arrondissement's code keeps
    assert ("une commune à arrondissements les contient tous ; un code d'arrondissement (13201,\n   69388) ne garde "
            "que ce qui le concerne") in readme
    assert {data.resolve_territory(code, REPO / "datasets").kind for code in ("13201", "69388")} == {"arrondissement"}


def test_the_readme_counts_each_commune_once_when_a_cell_names_several():
    """A QPV across arrondissements names them all in one cell (territory `separator`): the LISEZMOI
    lists the communes, never a cell as if it were one."""
    from dataquartiers import data

    res = data.resource("qpv2024_marseille", REPO / "datasets")
    assert res["territory"].get("separator")
    codes = bundles._coverage(res, REPO / "datasets")
    assert codes and all(" " not in code and len(code) == 5 for code in codes)
    assert {"13055", "13201"} <= set(codes)
