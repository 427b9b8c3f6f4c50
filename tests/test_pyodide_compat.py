"""Every lab can run in the browser (Pyodide 314.0.6), checked statically on its code cells.

In Pyodide there is no network socket, no thread, no subprocess, no GDAL: a lab that uses them
runs in the book's build and on a laptop, then fails in a trainee's browser. Imports must be
packages of the pinned Pyodide lock (the npm `pyodide` package's `pyodide-lock.json`, the same
version the JupyterLite kernel expects) or pure wheels the site ships (jupyter_lite_config.json).
The package `dataquartiers` itself is held to the same rules.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

from conftest import REPO
from booktools import lite, notebooks

LABS = notebooks.lab_notebooks(REPO) + [REPO / f for f in lite.SELF_ASSESSMENT_FILES if f.endswith(".ipynb")]

#: Modules (and attributes) that need what a browser tab does not have.
FORBIDDEN_MODULES = {
    "threading": "threads", "_thread": "threads", "multiprocessing": "processes",
    "concurrent": "threads or processes", "subprocess": "processes", "socket": "network sockets",
    "urllib.request": "network", "http.client": "network", "requests": "network", "httpx": "network",
    "urllib3": "network", "aiohttp": "network", "pooch": "network downloads", "ftplib": "network",
    "smtplib": "network", "fiona": "GDAL", "pyogrio": "GDAL", "osgeo": "GDAL", "rasterio": "GDAL",
}
#: Calls that need the same: GeoPandas readers go through GDAL; os.system spawns a process.
FORBIDDEN_CALLS = {
    "read_file": "GDAL (geopandas.read_file): read GeoJSON with dataquartiers.data.load",
    "to_file": "GDAL (GeoDataFrame.to_file)", "system": "a process (os.system)", "popen": "a process",
    "fork": "a process", "read_parquet": "pyarrow, absent from the labs' browser packages",
    "urlopen": "network", "urlretrieve": "network",
}


def _cells(path: Path) -> list[tuple[int, str]]:
    return [(c.number, c.source) for c in notebooks.code_cells(notebooks.read(path))]


def violations(source: str, where: str) -> list[str]:
    """What in `source` cannot run in Pyodide, one message per problem."""
    found = []
    for line_no, line in enumerate(source.splitlines(), start=1):
        if line.lstrip().startswith("!"):
            found.append(f"{where}, line {line_no}: shell command ('!'): a process, impossible in the browser")
    tree = ast.parse("\n".join("" if l.lstrip().startswith(("%", "!")) else l for l in source.splitlines()))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            for bad, why in FORBIDDEN_MODULES.items():
                if name == bad or name.startswith(bad + "."):
                    found.append(f"{where}, line {node.lineno}: imports {name}: {why}, impossible in the browser")
        if isinstance(node, ast.Call):
            func = node.func
            attr = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if attr in FORBIDDEN_CALLS:
                found.append(f"{where}, line {node.lineno}: calls {attr}(): {FORBIDDEN_CALLS[attr]}, impossible in the browser")
    return found


@pytest.fixture(scope="module")
def browser_packages() -> set[str]:
    """Import names available in the browser: the pinned Pyodide lock, the shipped pure wheels,
    the package itself and the standard library."""
    config = lite.load_config(REPO / lite.CONFIG_FILE_NAME)
    version = lite.pyodide_version(lite.kernel_pyodide_url())
    lock = lite.npm_pyodide_lock(expected_version=version)
    names = {i for entry in lock["packages"].values() for i in entry.get("imports", [])}
    names |= {i for w in lite.browser_wheels(config) for i in lite.wheel_info(w).imports}
    return names | {"dataquartiers", "IPython"} | set(sys.stdlib_module_names)


def test_there_are_labs():
    assert REPO / "labs" / "prise-en-main.ipynb" in LABS


def test_the_npm_pyodide_is_the_kernels_version():
    """The lock the checks read is the one of the Pyodide the JupyterLite kernel loads."""
    url = lite.kernel_pyodide_url()
    assert url == "https://cdn.jsdelivr.net/pyodide/v314.0.6/full/pyodide.mjs"
    lock = lite.npm_pyodide_lock(expected_version=lite.pyodide_version(url))
    assert lock["info"]["python"].startswith("3.14")
    assert {"numpy", "pandas", "geopandas", "shapely", "pyproj", "pyyaml"} <= set(lock["packages"])


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem)
def test_lab_needs_no_network_thread_process_or_gdal(path):
    problems = []
    for number, source in _cells(path):
        problems += violations(source, f"{path.relative_to(REPO)}, cell {number}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", LABS, ids=lambda p: p.stem)
def test_lab_imports_only_browser_packages(path, browser_packages):
    nb = json.loads(path.read_text(encoding="utf-8"))
    missing = sorted(m for m in notebooks.imports(nb) if m not in browser_packages)
    assert not missing, (f"{path.relative_to(REPO)} imports {', '.join(missing)}: neither in the Pyodide 314.0.6 "
                         f"lock nor among the pure wheels of {lite.CONFIG_FILE_NAME} (browser_wheels)")


def test_the_labs_library_runs_in_the_browser(browser_packages):
    """Every module of `dataquartiers` (the library the labs import) obeys the same rules.

    One exception, by design: `fetch.py` downloads the national files on a participant's laptop
    ("back home"); it imports pooch and requests inside its functions only, so the module itself
    imports in the browser and a call there fails with a French message.
    """
    network_by_design = {"fetch.py"}
    problems = []
    for module in sorted((REPO / "dataquartiers").rglob("*.py")):
        rel = module.relative_to(REPO / "dataquartiers")
        if rel.parts[0].startswith("_"):
            continue
        source = module.read_text(encoding="utf-8")
        tree = ast.parse(source)
        if rel.name not in network_by_design:
            problems += violations(source, f"dataquartiers/{rel.as_posix()}")
        else:  # only the module's top level must import in the browser
            problems += violations("\n".join(ast.unparse(n) for n in tree.body
                                             if isinstance(n, (ast.Import, ast.ImportFrom))),
                                   f"dataquartiers/{rel.as_posix()} (top level)")
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                    [node.module] if node.module and node.level == 0 else [])
                for m in mods:
                    if m.split(".")[0] not in browser_packages and not (
                            rel.name in network_by_design and m.split(".")[0] in ("pooch", "requests")):
                        problems.append(f"dataquartiers/{rel.as_posix()}, line {node.lineno}: imports {m}, "
                                        "absent from the browser")
    assert not problems, "\n".join(problems)


# --- the checker itself ---------------------------------------------------------------------

def test_violations_name_the_place_and_the_reason():
    src = "import threading\nfrom subprocess import run\nimport geopandas as gpd\ngpd.read_file('x.shp')\n!ls\n%time 1"
    found = violations(src, "labs/x.ipynb, cell 3")
    assert found == [
        "labs/x.ipynb, cell 3, line 5: shell command ('!'): a process, impossible in the browser",
        "labs/x.ipynb, cell 3, line 1: imports threading: threads, impossible in the browser",
        "labs/x.ipynb, cell 3, line 2: imports subprocess: processes, impossible in the browser",
        "labs/x.ipynb, cell 3, line 2: imports subprocess.run: processes, impossible in the browser",
        "labs/x.ipynb, cell 3, line 4: calls read_file(): GDAL (geopandas.read_file): read GeoJSON with "
        "dataquartiers.data.load, impossible in the browser",
    ]


def test_clean_code_passes():
    assert violations("import pandas as pd\nfrom dataquartiers.data import load\nx = load('a')\n", "ok") == []
