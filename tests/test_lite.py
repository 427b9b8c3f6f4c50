"""The labs in the browser (JupyterLite) as the book's build makes them: the deployed product.

What is checked here, on the built site (`site` fixture), with the network cut off:
- the lite site's configuration: in-memory storage, French by default, Pyodide pinned to the
  kernel's version on the official CDN, our lock file with the package `dataquartiers` and the pure
  wheels the labs need (no `%pip`), every lab (cleaned, with the "not saved" notice) and its data;
- every lab page has its two buttons, and their targets exist;
- in headless Chromium: the JupyterLite UI loads, lists every lab, opens each one in French with no
  error dialog; the only request that leaves 127.0.0.1 is the pinned Pyodide on the CDN (the kernel
  cannot start without network: that is what the offline kit is for, see test_offline_kit.py), and
  with that request blocked a French notice says so within 20 s;
- every lab reads like its book page: no MyST left as text, solutions folded until clicked, and every
  link of every notebook followed (book pages through the site's address, files of the contents):
  none answers 404; no checkpoint time is shown; « Repartir de la version publiée » is in the toolbar.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from browser import chromium_available, offline_page
from conftest import REPO, serve_folder
from booktools import buildcache, bundles, lab_copies, lite, notebooks
from booktools.wheels import normalise

LABS = notebooks.lab_notebooks(REPO)
CDN = "https://cdn.jsdelivr.net/pyodide/v314.0.6/full/"
NOTICE = "Vos modifications ne sont pas enregistrées — téléchargez le notebook"


@pytest.fixture(scope="module")
def lite_dir(site) -> Path:
    path = site / lite.LITE_DIR
    assert (path / "jupyter-lite.json").exists(), "the book's build made no JupyterLite site"
    return path


@pytest.fixture(scope="module")
def page_config(lite_dir) -> dict:
    return json.loads((lite_dir / "jupyter-lite.json").read_text(encoding="utf-8"))["jupyter-config-data"]


def test_notebooks_open_fresh_from_memory_storage(page_config):
    assert page_config["enableMemoryStorage"] is True
    assert page_config["contentsStorageDrivers"] == ["memoryStorageDriver"]
    assert page_config["settingsStorageDrivers"] == ["memoryStorageDriver"]


def test_french_by_default(page_config, lite_dir):
    assert page_config["settingsOverrides"]["@jupyterlab/translation-extension:plugin"]["locale"] == "fr_FR"
    pack = json.loads((lite_dir / "api" / "translations" / "fr_FR.json").read_text(encoding="utf-8"))
    assert pack["data"], "the French language pack is empty (is jupyterlab-language-pack-fr-FR installed?)"
    assert "fr_FR" in json.loads((lite_dir / "api" / "translations" / "all.json").read_text())["data"]


def test_pyodide_is_pinned_to_the_kernels_version_on_the_official_cdn(page_config, lite_dir):
    kernel = page_config["litePluginSettings"][lite.KERNEL_PLUGIN]
    assert kernel["pyodideUrl"] == CDN + "pyodide.mjs" == lite.kernel_pyodide_url()
    lock_url = kernel["loadPyodideOptions"]["lockFileURL"]
    assert (lite_dir / lock_url).exists(), f"lockFileURL {lock_url} is not in the site"


@pytest.fixture(scope="module")
def lock(lite_dir) -> dict:
    return json.loads((lite_dir / lite.LITE_PACKAGES_DIR / "pyodide-lock.json").read_text(encoding="utf-8"))


def test_lock_serves_our_wheels_and_takes_the_rest_from_the_cdn(lock, lite_dir):
    config = lite.load_config(REPO / lite.CONFIG_FILE_NAME)
    ours = {"dataquartiers"} | {normalise(n) for n in config.browser_wheels}
    for key, entry in lock["packages"].items():
        if key in ours:
            path = lite_dir / lite.LITE_PACKAGES_DIR / entry["file_name"]
            assert path.exists(), f"{key}: {entry['file_name']} is not in the site"
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], f"{key}: sha256 differs"
            assert entry["file_name"].endswith("-none-any.whl")
        else:
            assert entry["file_name"].startswith(CDN), f"{key}: {entry['file_name']} is not on the pinned CDN"
        for dep in entry["depends"]:
            assert normalise(dep) in lock["packages"], f"{key} depends on {dep}, absent from the lock"
    assert ours <= set(lock["packages"])
    # `import dataquartiers` loads the package with what the labs need, and nothing from GDAL
    assert lock["packages"]["dataquartiers"]["imports"] == ["dataquartiers"]
    assert {"pandas", "geopandas", "folium", "ipywidgets", "pyyaml"} <= set(lock["packages"]["dataquartiers"]["depends"])
    assert "fiona" not in lock["packages"]["geopandas"]["depends"]


def test_the_package_wheel_carries_leaflet_and_not_the_book_assets(lite_dir, lock):
    wheel = lite_dir / lite.LITE_PACKAGES_DIR / lock["packages"]["dataquartiers"]["file_name"]
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert {"dataquartiers/data.py", "dataquartiers/maps.py", "dataquartiers/_vendor/leaflet/leaflet.js"} <= names
    assert not any(n.startswith(("dataquartiers/_vendor/mathjax", "dataquartiers/_vendor/widgets")) for n in names)
    assert not any("__pycache__" in n for n in names)


@pytest.mark.parametrize("notebook", LABS, ids=lambda p: p.stem)
def test_every_lab_is_in_the_lite_contents_cleaned_with_the_notice(notebook, lite_dir):
    served = json.loads((lite_dir / "files" / "labs" / notebook.name).read_text(encoding="utf-8"))
    first = served["cells"][0]
    assert first["cell_type"] == "markdown" and NOTICE in first["source"]
    assert served["metadata"]["kernelspec"]["name"] == "python"
    assert all(not c.get("outputs") for c in served["cells"] if c["cell_type"] == "code")
    original = json.loads(notebook.read_text(encoding="utf-8"))
    code = [c["source"] for c in served["cells"] if c["cell_type"] == "code"]
    assert code == [c["source"] for c in original["cells"] if c["cell_type"] == "code"]
    for cell in served["cells"]:
        if cell["cell_type"] == "markdown":
            assert not lab_copies.raw_myst(cell["source"]), lab_copies.raw_myst(cell["source"])
    # and the data it reads, where load() finds it from labs/ (../datasets)
    package = json.loads((lite_dir / "files" / "datasets" / "datapackage.json").read_text(encoding="utf-8"))
    in_lite = {r["name"]: r for r in package["resources"]}
    for name in bundles.lab_data_needs(notebook, REPO)[1]:
        assert name in in_lite, f"{notebook.name} reads '{name}', absent from the lite data package"
        assert (lite_dir / "files" / "datasets" / in_lite[name]["path"]).exists()


@pytest.mark.parametrize("notebook", LABS, ids=lambda p: p.stem)
def test_lab_page_has_the_launch_and_download_buttons(notebook, site):
    page = site / "labs" / f"{notebook.stem}.html"
    assert page.exists(), f"labs/{notebook.name} has no page in the book: add it to _toc.yml"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    launch = soup.select_one("a.dq-lab-launch")
    bundle = soup.select_one("a.dq-lab-bundle")
    assert launch is not None and launch.get_text(strip=True) == "Lancer dans le navigateur"
    assert bundle is not None and bundle.get_text(strip=True) == "Télécharger le lab (zip)"
    parts = urlsplit(launch["href"])
    assert (page.parent / parts.path).resolve() == (site / "lite" / "notebooks" / "index.html").resolve()
    assert parse_qs(parts.query)["path"] == [f"labs/{notebook.name}"]
    assert (page.parent / bundle["href"]).resolve().exists()
    assert "ne sont pas enregistrées" in soup.select_one(".dq-lab-actions").get_text()


def test_book_pages_load_no_external_stylesheet(site):
    """jupyterlite-sphinx's Google Fonts stylesheet is dropped from every page."""
    offenders = [p.relative_to(site) for p in site.rglob("*.html")
                 if "lite" not in p.relative_to(site).parts[:1] and "fonts.googleapis" in p.read_text(encoding="utf-8")]
    assert not offenders, offenders


# --- in the browser ----------------------------------------------------------------------------

DIALOG_JS = "() => Array.from(document.querySelectorAll('.jp-Dialog')).map(d => d.innerText)"


@pytest.fixture(scope="module")
def served_site(site):
    with serve_folder(site) as url:
        yield url


RENDERED_LINKS_JS = """() => Array.from(document.querySelectorAll('.jp-RenderedMarkdown a[href]'))
  .map(a => ({href: a.href, raw: a.getAttribute('href'), text: a.innerText}))"""
MARKDOWN_TEXT_JS = """() => Array.from(document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown'))
  .map(e => e.innerText).join('\\n')"""


@pytest.mark.skipif(not chromium_available(), reason="needs Debian chromium")
@pytest.mark.parametrize("notebook", LABS + [REPO / "ethics-charter" / "auto-evaluation.ipynb"], ids=lambda p: p.stem)
def test_each_lab_reads_like_the_book_and_every_link_works(notebook, served_site, site):
    """Rendered in JupyterLite: no raw MyST, solutions folded, every link followed (no 404)."""
    address = lab_copies.site_address(REPO)
    path = notebook.relative_to(REPO).as_posix()
    with offline_page() as (page, traffic):
        page.goto(f"{served_site}/lite/notebooks/index.html?path={path}")
        page.wait_for_function(lite.UI_READY_JS, timeout=90_000)
        page.wait_for_selector(".jp-MarkdownCell .jp-RenderedMarkdown", timeout=60_000)
        page.wait_for_timeout(1000)
        text = page.evaluate(MARKDOWN_TEXT_JS)
        assert not re.search(r"\{(term|doc|ref|catalogue|warning|note|admonition)\}|^\s*(```|:::)", text, flags=re.M), \
            f"{path}: MyST shown as text"
        details = page.locator(".jp-RenderedMarkdown details")
        if "Solution" in text:
            assert details.count() >= 1 and all(d.get_attribute("open") is None for d in details.all())
            solution = details.first
            body = solution.locator("pre, code").first
            assert not body.is_visible(), "the solution is shown before a click"
            solution.locator("summary").click()
            assert body.is_visible(), "the solution does not open on a click"
        links = page.evaluate(RENDERED_LINKS_JS)
        assert links, f"{path}: no link rendered"
        followed = []
        for link in links:
            href = link["href"]
            if href.startswith(address):  # the book, at its published address: served here by the site
                target = f"{served_site}/{href[len(address):]}"
            elif href.startswith(served_site):  # a file of the JupyterLite contents
                target = href
            else:
                assert href.startswith("https://"), f"{path}: link {href}"
                continue  # another site (pandas' documentation…): not reachable from the tests
            response = page.request.get(target.split("#")[0])
            assert response.status == 200, f"{path}: « {link['text']} » → {href}: {response.status}"
            followed.append(href)
        assert followed, f"{path}: no link to the book or the contents"
        print(f"{path}: {len(followed)} liens suivis, {len(links) - len(followed)} vers d'autres sites")


@pytest.mark.skipif(not chromium_available(), reason="needs Debian chromium")
@pytest.mark.parametrize("notebook", LABS, ids=lambda p: p.stem)
def test_each_lab_opens_in_french_with_no_error_dialog(notebook, served_site):
    with offline_page() as (page, traffic):
        page.goto(f"{served_site}/lite/notebooks/index.html?path=labs/{notebook.name}")
        page.wait_for_function(lite.UI_READY_JS, timeout=90_000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
        # the Pyodide request is blocked (every host but 127.0.0.1 is): a French notice, within 20 s
        # of the page's navigation, as the browser counts it (the test's own waits do not count)
        page.wait_for_selector("#dq-python-notice", timeout=60_000)
        notice = page.locator("#dq-python-notice")
        shown_after = int(notice.get_attribute("data-shown-after-ms"))
        print(f"{notebook.stem}: avis affiché {shown_after / 1000:.1f} s après le chargement de la page")
        assert shown_after <= 20_000, f"the notice came {shown_after / 1000:.1f} s after the page load"
        said = notice.inner_text()
        assert notice.get_attribute("role") == "alert"
        for words in ("Python n’a pas pu démarrer", "Pyodide", "pas de connexion", "proxy", "kit hors ligne",
                      "téléchargez le lab (zip)"):
            assert words in said, f"the notice does not say « {words} »: {said}"
        kit = notice.locator("a", has_text="kit hors ligne")
        assert page.request.get(kit.evaluate("a => a.href")).status == 200
        assert page.request.get(notice.locator("a", has_text="zip").evaluate("a => a.href")).status == 200
        notice.locator("button").click()
        assert NOTICE in page.locator(".jp-Notebook .jp-Cell").first.inner_text()
        # « Repartir de la version publiée » is in sight; no misleading checkpoint time
        assert page.locator(".jp-Toolbar .dq-repartir").first.is_visible()
        assert "point de contrôle" not in page.locator("#top-panel-wrapper, #top-panel").first.inner_text()
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        assert {"Fichier", "Édition", "Exécution", "Noyau"} <= set(menus), menus
        assert page.evaluate(DIALOG_JS) == []
        title = page.evaluate("() => window.jupyterapp.shell.currentWidget.context.path")
        assert title == f"labs/{notebook.name}"
        assert not traffic.failed_local, traffic.failed_local
        # the kernel's only way out: the pinned Pyodide on the official CDN
        assert set(traffic.external) <= {CDN + "pyodide.mjs"}, traffic.external


@pytest.mark.skipif(not chromium_available(), reason="needs Debian chromium")
def test_the_file_browser_lists_every_lab(served_site):
    with offline_page() as (page, traffic):
        page.goto(f"{served_site}/lite/tree/index.html")
        page.wait_for_selector(".jp-DirListing-item", timeout=90_000)
        assert {"labs", "datasets"} <= set(page.locator(".jp-DirListing-itemText").all_inner_texts())
        page.locator(".jp-DirListing-item", has_text="labs").first.dblclick()
        page.wait_for_selector(f".jp-DirListing-item:has-text('{LABS[0].name}')", timeout=30_000)
        listed = set(page.locator(".jp-DirListing-itemText").all_inner_texts())
        assert {nb.name for nb in LABS} <= listed, listed
        assert page.evaluate(DIALOG_JS) == []
        # the only way out: the check that the pinned Pyodide can be fetched (the French notice's)
        assert set(traffic.external) <= {CDN + "pyodide.mjs"} and not traffic.failed_local


def test_launch_url_matches_the_page_buttons():
    assert lite.launch_url(REPO / "labs" / "prise-en-main.ipynb", repo=REPO) == \
        "notebooks/index.html?path=labs/prise-en-main.ipynb"


def test_a_broken_config_names_the_file_and_the_field(tmp_path):
    bad = tmp_path / "jupyter_lite_config.json"
    bad.write_text(json.dumps({"DataQuartiersLite": {"interface": "retro"}}))
    with pytest.raises(lite.LiteError, match=re.escape(f"{bad} : le champ « DataQuartiersLite.browser_wheels » doit être une liste JSON")):
        lite.load_config(bad)
    config = json.loads((REPO / lite.CONFIG_FILE_NAME).read_text())
    config["DataQuartiersLite"]["interface"] = "retro"
    bad.write_text(json.dumps(config))
    with pytest.raises(lite.LiteError, match="le champ « DataQuartiersLite.interface » vaut « retro » ; attendu : « notebooks » ou « lab »"):
        lite.load_config(bad)


def test_inputs_digest_skips_only_unchanged_work(tmp_path):
    """The lite build and the zips are skipped on a rebuild only when none of their inputs changed."""
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    first = buildcache.inputs_digest([folder], tmp_path)
    cache = tmp_path / "cache"
    assert not buildcache.is_unchanged(cache, "work", first)
    buildcache.remember(cache, "work", first)
    assert buildcache.is_unchanged(cache, "work", buildcache.inputs_digest([folder], tmp_path))
    (folder / "sub" / "b.txt").write_text("b, edited")
    assert not buildcache.is_unchanged(cache, "work", buildcache.inputs_digest([folder], tmp_path))
    (folder / "sub" / "b.txt").write_text("b")
    (folder / "c.txt").write_text("")  # a new, even empty, file is a change
    assert not buildcache.is_unchanged(cache, "work", buildcache.inputs_digest([folder], tmp_path))


def test_rebuilt_zip_follows_its_notebook(tmp_path, site):
    dest, cache = tmp_path / "bundles", tmp_path / "cache"
    dest.mkdir()
    links = bundles.default_links(REPO, site)
    zips = bundles.build_all(dest, REPO, cache_dir=cache, links=links)
    stamps = {z.name: z.stat().st_mtime_ns for z in zips}
    again = bundles.build_all(dest, REPO, cache_dir=cache, links=links)
    assert {z.name: z.stat().st_mtime_ns for z in again} == stamps, "unchanged labs were zipped again"
