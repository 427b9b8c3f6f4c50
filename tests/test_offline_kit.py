"""The offline training kit: getting the pinned Pyodide safely, pruning it, and the kit in a browser
with the network cut off.

These machines cannot get the official Pyodide 314 release (no compiled wheels), so the browser
test builds the kit from a test-only partial distribution (`pyodide_partial.py`: npm core + pure
wheels, micropip 0.11.1 the real one from PyPI). What it proves, in headless Chromium, with every
request outside 127.0.0.1 recorded: the UI loads, the kernel boots to idle from the kit's own
Pyodide, pure-Python cells run, the lab's data files are read from the kit, `import dataquartiers`
loads the package's wheel from the kit's lock, an ipywidgets slider renders and follows the kernel,
and there are **zero** requests outside 127.0.0.1. What it cannot prove here: pandas, geopandas,
shapely and folium in the browser (their Pyodide 314 builds are absent), hence the lab's own cells
(they are run on Pyodide 0.27.7 by test_labs_in_pyodide.py). Also here: with the kit's Pyodide
blocked, the French notice; « Repartir de la version publiée » puts a modified notebook back and
restarts Python; the notebooks' links to the book are root-relative and answer 200.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import subprocess
import sys
import tarfile
import threading
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

import pyodide_partial
from browser import chromium_available, offline_page
from conftest import REPO, free_port, serve_folder
from booktools import lite, offline_kit
from booktools.wheels import build_wheel


# --- getting the release: download once, sha256-checked, cached ---------------------------------

class _CountingHandler(http.server.SimpleHTTPRequestHandler):
    hits: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        type(self).hits.append(self.path)
        super().do_GET()


@pytest.fixture()
def release_server(tmp_path):
    """A local stand-in for the release page: a small tarball and its published digest."""
    root = tmp_path / "www"
    root.mkdir()
    tarball = root / "pyodide-314.0.6.tar.bz2"
    with tarfile.open(tarball, "w:bz2") as tar:
        for name, data in {"pyodide/pyodide.mjs": b"export{}", "pyodide/pyodide-lock.json": b"{}"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    (root / "release.json").write_text(json.dumps({"assets": [{"name": tarball.name, "digest": f"sha256:{digest}"}]}))
    _CountingHandler.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_CountingHandler, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield base, tarball, digest
    server.shutdown()
    server.server_close()


def test_release_is_checked_against_the_published_digest_and_cached(release_server, tmp_path):
    base, tarball, digest = release_server
    cache = tmp_path / "cache"
    got = offline_kit.fetch_release(f"{base}/{tarball.name}", cache, None, f"{base}/release.json")
    assert got.read_bytes() == tarball.read_bytes()
    assert (cache / f"{tarball.name}.sha256").read_text().split()[0] == digest
    hits = len(_CountingHandler.hits)
    again = offline_kit.fetch_release(f"{base}/{tarball.name}", cache, None, f"{base}/release.json")
    assert again == got and len(_CountingHandler.hits) == hits, "a cached, verified release is downloaded again"


def test_a_release_whose_sha256_differs_is_refused(release_server, tmp_path):
    base, tarball, _ = release_server
    with pytest.raises(offline_kit.KitError, match="au lieu de la valeur publiée 0{64} : téléchargement refusé"):
        offline_kit.fetch_release(f"{base}/{tarball.name}", tmp_path / "cache", "0" * 64)
    assert not list((tmp_path / "cache").glob("*.tar.bz2")), "a refused download was kept"


def test_no_network_gives_a_hint_to_use_a_local_copy(tmp_path):
    port = free_port()  # nothing listens there
    with pytest.raises(offline_kit.KitError, match="make offline-kit PYODIDE=/chemin/vers/pyodide-314.0.6.tar.bz2"):
        offline_kit.fetch_release(f"http://127.0.0.1:{port}/pyodide-314.0.6.tar.bz2", tmp_path, "0" * 64)


def test_a_tarball_with_members_outside_pyodide_is_refused(tmp_path):
    bad = tmp_path / "bad.tar.bz2"
    with tarfile.open(bad, "w:bz2") as tar:
        info = tarfile.TarInfo("etc/passwd")
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(offline_kit.KitError, match="élément inattendu « etc/passwd »"):
        offline_kit.unpack_release(bad, tmp_path / "out")


def test_a_local_official_tarball_must_match_the_pinned_sha256(release_server, tmp_path):
    _, tarball, digest = release_server
    config = lite.load_config(REPO / lite.CONFIG_FILE_NAME)
    config.offline_kit = dict(config.offline_kit, sha256="f" * 64)
    with pytest.raises(offline_kit.KitError, match=f"sha256 {digest}, alors que la valeur fixée"):
        offline_kit.open_distribution(str(tarball), config, tmp_path / "cache")


def test_a_folder_that_is_not_a_distribution_is_refused(tmp_path):
    config = lite.load_config(REPO / lite.CONFIG_FILE_NAME)
    with pytest.raises(offline_kit.KitError, match=r"pas une distribution de Pyodide \(il manque pyodide.mjs"):
        offline_kit.open_distribution(str(tmp_path), config, tmp_path / "cache")


def test_a_complete_kit_refuses_a_distribution_with_gaps(tmp_path):
    """Without partial=True (tests only), every needed package file must be there."""
    lock = lite.npm_pyodide_lock()
    with pytest.raises(offline_kit.KitError, match=r"il manque .* \d+ fichier\(s\) de paquet .*numpy-2.4.6"):
        offline_kit.prune_distribution(lite.PYODIDE_NPM_DIR, tmp_path / "out", lock, ["pandas"], [])


def test_the_kit_needs_every_lab_import(tmp_path):
    config = lite.load_config(REPO / lite.CONFIG_FILE_NAME)
    lock = lite.extend_lock(lite.npm_pyodide_lock(), [build_wheel(tmp_path)] + lite.browser_wheels(config), config)
    roots = offline_kit.lab_roots(lock, config, REPO)
    assert {"micropip", "ipython", "dataquartiers", "pandas", "ipywidgets"} <= set(roots)
    needed = offline_kit.closure(lock, roots)
    assert {"numpy", "shapely", "pyproj", "folium", "jinja2", "comm"} <= needed and "fiona" not in needed


# --- the kit, built from the partial distribution -------------------------------------------

@pytest.fixture(scope="module")
def kit(site, tmp_path_factory):
    if pyodide_partial.ready():
        pytest.skip(pyodide_partial.ready())
    work = tmp_path_factory.mktemp("kit")
    pyodide_partial.build_partial_distribution(work / "pyodide")
    report = offline_kit.build_kit(site, work / "out", pyodide=str(work / "pyodide"), partial=True,
                                   repo=REPO, cache_dir=work / "cache")
    return report


def test_kit_folder_archive_and_manifest(kit):
    folder = Path(kit.folder)
    for name in ("LISEZMOI.txt", "servir.py", "kit.json", "site/index.html", "site/lite/static/pyodide/pyodide.mjs",
                 "site/chapters/kit-hors-ligne.html"):
        assert (folder / name).exists(), name
    manifest = json.loads((folder / "kit.json").read_text())
    assert manifest["pyodide_version"] == "314.0.6" and manifest["partial"] is True
    assert "pandas" in manifest["missing_packages"]  # honest about the partial distribution
    with zipfile.ZipFile(kit.archive) as zf:
        names = set(zf.namelist())
    assert f"{offline_kit.KIT_NAME}/LISEZMOI.txt" in names
    assert f"{offline_kit.KIT_NAME}/site/lite/static/pyodide/pyodide-lock.json" in names


def test_kit_points_the_kernel_at_its_own_pyodide_with_no_pypi(kit):
    lite_dir = Path(kit.folder) / "site" / "lite"
    config = json.loads((lite_dir / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"][lite.KERNEL_PLUGIN]
    assert kernel["pyodideUrl"] == "./static/pyodide/pyodide.mjs"
    assert kernel["disablePyPIFallback"] is True and "loadPyodideOptions" not in kernel
    lock = json.loads((lite_dir / "static" / "pyodide" / "pyodide-lock.json").read_text())
    for key, entry in lock["packages"].items():
        assert "://" not in entry["file_name"], f"{key} is not served by the kit"
        assert (lite_dir / "static" / "pyodide" / entry["file_name"]).exists(), key
    assert not (lite_dir / lite.LITE_PACKAGES_DIR).exists()


def test_servir_py_serves_modules_with_the_right_types(kit):
    folder = Path(kit.folder)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "servir.py", str(port)], cwd=folder, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lite/static/pyodide/pyodide.mjs") as r:
                    assert r.headers["Content-Type"].startswith("text/javascript")
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("servir.py did not answer")
    finally:
        proc.terminate()
        proc.wait(10)


RUN_CELL = """async (code) => { const app = window.jupyterapp; const nb = app.shell.currentWidget.content;
  const model = nb.model; model.sharedModel.insertCell(model.cells.length, {cell_type: 'code', source: code});
  nb.activeCellIndex = model.cells.length - 1; await app.commands.execute('notebook:run-cell');
  return model.cells.length - 1; }"""
CELL_DONE = """(i) => { const w = window.jupyterapp.shell.currentWidget; const c = w.content.model.cells.get(i);
  return !!c.executionCount && w.sessionContext.session.kernel.status === 'idle'; }"""
CELL_OUTPUT = """(i) => window.jupyterapp.shell.currentWidget.content.model.cells.get(i).outputs.toJSON()"""


def _run(page, code: str) -> list[dict]:
    index = page.evaluate(RUN_CELL, code)
    page.wait_for_function(CELL_DONE, arg=index, timeout=120_000, polling=200)
    return page.evaluate(CELL_OUTPUT, index)


def _text(outputs: list[dict]) -> str:
    return "".join(o["text"] if isinstance(o["text"], str) else "".join(o["text"])
                   for o in outputs if o["output_type"] == "stream")


@pytest.mark.skipif(not chromium_available(), reason="needs Debian chromium")
def test_kit_runs_a_lab_kernel_with_zero_requests_outside_127_0_0_1(kit):
    site = Path(kit.folder) / "site"
    with serve_folder(site) as url, offline_page() as (page, traffic):
        # a book page first: the whole site is served by the kit
        page.goto(f"{url}/labs/prise-en-main.html")
        page.wait_for_selector("a.dq-lab-launch")
        start = time.perf_counter()
        page.goto(f"{url}/lite/notebooks/index.html?path=labs/prise-en-main.ipynb")
        page.wait_for_function(lite.UI_READY_JS, timeout=90_000)
        ui_ready = time.perf_counter() - start
        page.wait_for_function(lite.KERNEL_IDLE_JS, timeout=240_000, polling=250)
        kernel_idle = time.perf_counter() - start
        print(f"kit: UI ready {ui_ready:.1f} s, kernel idle {kernel_idle:.1f} s after page load")

        assert _text(_run(page, "print(sum(range(10)))")) == "45\n"
        # the lab's data, read from the kit through the kernel's drive (cwd is labs/)
        out = _text(_run(page, "import json, os\nprint(os.getcwd())\n"
                               "print(sorted(r['name'] for r in json.load(open('../datasets/datapackage.json'))['resources']))"))
        assert out.startswith("/drive/labs\n") and "rennes_iris_population" in out
        # the package: loaded on import from the kit's lock, no %pip
        assert _text(_run(page, "import dataquartiers\nprint(dataquartiers.__version__)")) == "0.1.0\n"
        # a widget renders, and follows the kernel
        outputs = _run(page, "import ipywidgets as widgets\ncurseur = widgets.IntSlider(value=7, description='Seuil')\ncurseur")
        assert "application/vnd.jupyter.widget-view+json" in outputs[0]["data"]
        page.wait_for_selector(".widget-slider .widget-readout", timeout=30_000)
        assert page.locator(".widget-slider .widget-readout").last.inner_text().strip() == "7"
        _run(page, "curseur.value = 12")
        page.wait_for_function("() => Array.from(document.querySelectorAll('.widget-slider .widget-readout'))"
                               ".some(e => e.innerText.trim() === '12')", timeout=30_000)
        # where the partial distribution stops: no pandas (no compiled Pyodide packages here)
        error = _run(page, "from dataquartiers.data import load")
        assert error[0]["output_type"] == "error" and "pandas" in error[0]["evalue"]

        assert page.evaluate("() => document.querySelectorAll('.jp-Dialog').length") == 0
        assert traffic.external == [], f"requests outside 127.0.0.1: {sorted(set(traffic.external))}"
        assert not traffic.failed_local, traffic.failed_local


@pytest.mark.skipif(not chromium_available(), reason="needs Debian chromium")
def test_kit_with_its_pyodide_blocked_says_so_in_french(kit):
    site = Path(kit.folder) / "site"
    with serve_folder(site) as url, offline_page() as (page, traffic):
        page.route("**/static/pyodide/**", lambda route: route.abort())
        page.goto(f"{url}/lite/notebooks/index.html?path=labs/prise-en-main.ipynb")
        page.wait_for_selector("#dq-python-notice", timeout=60_000)
        assert int(page.locator("#dq-python-notice").get_attribute("data-shown-after-ms")) <= 20_000
        said = page.locator("#dq-python-notice").inner_text()
        assert "Python n’a pas pu démarrer" in said and "kit hors ligne" in said and "zip" in said


@pytest.mark.skipif(not chromium_available(), reason="needs Debian chromium")
def test_kit_start_again_from_the_published_lab_and_links_to_the_book(kit):
    site = Path(kit.folder) / "site"
    with serve_folder(site) as url, offline_page() as (page, traffic):
        page.goto(f"{url}/lite/notebooks/index.html?path=labs/prise-en-main.ipynb")
        page.wait_for_function(lite.UI_READY_JS, timeout=90_000)
        page.wait_for_function(lite.KERNEL_IDLE_JS, timeout=240_000, polling=250)
        assert page.locator("#dq-python-notice").count() == 0, "the notice shows while Python started"
        # the links to the book are root-relative in the kit, and every one answers
        hrefs = page.evaluate("() => Array.from(document.querySelectorAll('.jp-RenderedMarkdown a[href]')).map(a => a.href)")
        book = [h for h in hrefs if h.startswith(url) and "/lite/" not in h]
        assert book, hrefs
        for href in book:
            assert page.request.get(href.split("#")[0]).status == 200, href
        # a trainee changes the notebook, then starts again from the published lab
        first = len(page.evaluate(CELL_SOURCES))
        _run(page, "x = 41 + 1")
        assert len(page.evaluate(CELL_SOURCES)) == first + 1
        page.locator(".jp-Toolbar .dq-repartir").first.click()
        dialog = page.locator(".jp-Dialog")
        assert "Repartir de la version publiée ?" in dialog.inner_text()
        dialog.locator("button", has_text="Repartir").click()
        page.wait_for_function(f"() => window.jupyterapp.shell.currentWidget.content.model.cells.length === {first}")
        page.wait_for_function(lite.KERNEL_IDLE_JS, timeout=240_000, polling=250)
        assert "x = 41 + 1" not in page.evaluate(CELL_SOURCES)
        assert "NameError" in json.dumps(_run(page, "x")), "Python was not restarted"
        assert traffic.external == []


CELL_SOURCES = """() => { const cells = window.jupyterapp.shell.currentWidget.content.model.cells; const r = [];
  for (let i = 0; i < cells.length; i++) r.push(cells.get(i).sharedModel.getSource()); return r; }"""
