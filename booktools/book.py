"""The book's Sphinx extension: what Jupyter Book's configuration alone cannot say.

- Serve the vendored front-end assets (require.js, the ipywidgets manager, MathJax, Leaflet)
  from the site itself, so widget pages need no CDN. They are copied into the *output*
  `_static/dq-vendor/` once the build is done (Sphinx resolves a relative `add_js_file` path there);
  they are not in a source `_static/` folder, whose js/css Jupyter Book would add to every page.
- Write a French `index.html` redirect.
- Publishing (site address, theme frame and labels in French, search without accents, launch menu,
  sitemap, robots.txt, 404 page, Open Graph tags): `booktools/site_publish.py`.
- Hooks of the other parts of the book (datasets page, catalogue, ethics charter, JupyterLite and
  the lab zips) register here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

from . import TOOLS_DIR, ethics
from . import execution  # notebooks run without hanging; the run cache follows the library and data
from . import bundles  # one zip per lab
from . import training_pages  # the « Former » part: sessions, facilitator notes, quizzes, templates
from . import lite  # labs in the browser, lab buttons
from . import catalogue  # catalogue of sources, partner directory, DCAT-AP exports
from . import coverage  # the labs × training cities table of the labs index page
from . import datasets_page  # the datasets page, generated from datasets/datapackage.json
from . import static_widgets  # every widget on a lab page says it is a still image of the lab
from . import atlas  # a sheet per priority neighbourhood, the index by commune
from . import site_publish  # the web site: addresses, theme, search, launch menu, sitemap

VENDOR_DIR = TOOLS_DIR / "_vendor"


def _check_vendor(app: Sphinx) -> None:
    if not (VENDOR_DIR / "widgets" / "embed-amd.js").exists():
        raise ExtensionError(
            f"{VENDOR_DIR} is missing: run `make setup` (npm ci + python -m booktools.vendor) "
            "so that maps and widgets render without network.")


def _copy_vendor(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "dq-vendor"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(VENDOR_DIR, target)


REDIRECT_PAGE = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<title>Data &amp; Quartiers</title>
<meta http-equiv="refresh" content="0; url={target}">
</head>
<body><p>Redirection vers <a href="{target}">la page d'accueil du livre</a>.</p></body>
</html>
"""


def _french_redirect(app: Sphinx, exception: Exception | None) -> None:
    """sphinx-external-toc writes a lang-less `index.html` redirect: write a French one instead."""
    if exception is not None or app.builder.format != "html":
        return
    index = Path(app.outdir) / "index.html"
    if not index.exists() or 'http-equiv="Refresh"' in index.read_text(encoding="utf-8"):
        index.write_text(REDIRECT_PAGE.format(target=f"{app.config.root_doc}.html"), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _check_vendor)
    app.connect("build-finished", _copy_vendor)
    # before sphinx-external-toc's handler, which writes its redirect only where none exists
    app.connect("build-finished", _french_redirect, priority=400)
    execution.setup_sphinx(app)
    ethics.setup_sphinx(app)
    lite.setup_sphinx(app)
    static_widgets.setup_sphinx(app)
    app.connect("build-finished", bundles.build_bundles_of_site)
    catalogue.setup_sphinx(app)
    datasets_page.setup_sphinx(app)
    training_pages.setup_sphinx(app)
    atlas.setup_sphinx(app)
    coverage.setup_sphinx(app)
    site_publish.setup(app)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
