"""Copy the front-end assets that maps and widgets need from node_modules.

Why: by default folium pages and ipywidgets load Leaflet, require.js and the widget manager from
CDNs, so in a training room with no network the map is a blank box and the widgets vanish.
`npm ci` fetches the pinned versions (package-lock.json); this step keeps only the files the site
serves and inlines Leaflet's images into its CSS, so that a map embedded as `<iframe srcdoc>`
needs no other file. Run by `make setup`: ``python -m booktools.vendor``.

Leaflet goes into the labs' library (`dataquartiers/_vendor/leaflet`: every map inlines it, in the
book, on a laptop and in the browser); require.js, the widget manager and MathJax are served by
the book's pages only and go into the tooling (`booktools/_vendor`), never into what trainees get.
"""

from __future__ import annotations

import base64
import re
import shutil
import sys
from pathlib import Path

from dataquartiers import PACKAGE_DIR
from dataquartiers.cli import ArgumentParser
from dataquartiers.indicators import format_fr

from . import REPO_DIR, TOOLS_DIR

NODE_MODULES = REPO_DIR / "node_modules"
#: Leaflet, inlined into every map by dataquartiers.maps.
LEAFLET_DIR = PACKAGE_DIR / "_vendor" / "leaflet"
#: What the book's pages serve from `_static/dq-vendor/` (booktools.book).
VENDOR_DIR = TOOLS_DIR / "_vendor"

#: The widget manager's icon fonts, served beside it.
WIDGET_FILE_SUFFIXES = (".woff", ".woff2", ".ttf", ".eot", ".svg")


def _inline_images(css: str, images_dir: Path) -> str:
    """Replace `url(images/x.png)` by a data: URL, so the CSS works inside an iframe srcdoc."""

    def repl(match: re.Match) -> str:
        path = images_dir / match.group(1)
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return re.sub(r"url\(images/([\w.-]+\.png)\)", repl, css)


def vendor(node_modules: Path = NODE_MODULES, target: Path = VENDOR_DIR,
           leaflet_target: Path = LEAFLET_DIR) -> list[Path]:
    """Copy the needed assets; return the files written. Raises FileNotFoundError with a hint."""
    leaflet = node_modules / "leaflet" / "dist"
    requirejs = node_modules / "requirejs" / "require.js"
    widgets = node_modules / "@jupyter-widgets" / "html-manager" / "dist"
    mathjax = node_modules / "mathjax" / "es5"
    for needed in (leaflet / "leaflet.js", requirejs, widgets / "embed-amd.js", mathjax / "tex-chtml.js"):
        if not needed.exists():
            raise FileNotFoundError(
                f"{needed} is missing: run `npm ci` at the repository root (or `make setup`)."
            )
    for folder in (target, leaflet_target):
        if folder.exists():
            shutil.rmtree(folder)
    leaflet_target.mkdir(parents=True)
    (target / "widgets").mkdir(parents=True)
    shutil.copy2(leaflet / "leaflet.js", leaflet_target / "leaflet.js")
    css = _inline_images((leaflet / "leaflet.css").read_text(encoding="utf-8"), leaflet / "images")
    (leaflet_target / "leaflet.css").write_text(css, encoding="utf-8")
    if (node_modules / "leaflet" / "LICENSE").exists():
        shutil.copy2(node_modules / "leaflet" / "LICENSE", leaflet_target / "LICENSE")
    shutil.copy2(requirejs, target / "widgets" / "require.js")
    shutil.copy2(widgets / "embed-amd.js", target / "widgets" / "embed-amd.js")
    # The widget bundle finds its icon fonts through require.js's URL of its own module name, by
    # default relative to the page (a 404 on every page below the root): point that name at the
    # folder these files are served from, whatever the page's depth.
    (target / "widgets" / "config.js").write_text(
        "// Written by booktools/vendor.py: serve the widget manager's files from this folder.\n"
        "// The manager, base and controls modules are defined inside embed-amd.js; their paths here only set\n"
        "// the folder their icon fonts are fetched from (else the page's folder: 404).\n"
        "(function () {\n"
        "  var here = document.currentScript.src.replace(/[^/]*$/, '').replace(/\\/$/, '');\n"
        "  requirejs.config({paths: {'@jupyter-widgets/html-manager/dist': here,\n"
        "    '@jupyter-widgets/html-manager': here + '/html-manager',\n"
        "    '@jupyter-widgets/base': here + '/base', '@jupyter-widgets/controls': here + '/controls'}});\n"
        "})();\n",
        encoding="utf-8")
    # The slider handles the widget manager draws have no accessible name (WCAG 4.1.2): give
    # each the text of its widget's label once it is on the page.
    (target / "widgets" / "a11y.js").write_text(
        "// Written by booktools/vendor.py: name the widget controls for screen readers.\n"
        "(function () {\n"
        "  function name() {\n"
        "    document.querySelectorAll('.widget-inline-hbox').forEach(function (box) {\n"
        "      var label = box.querySelector('.widget-label');\n"
        "      var text = label ? label.textContent.trim() : '';\n"
        "      if (!text) { return; }\n"
        "      box.querySelectorAll('.noUi-handle, input, select, textarea').forEach(function (el) {\n"
        "        if (!el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')) {\n"
        "          el.setAttribute('aria-label', text);\n"
        "        }\n"
        "      });\n"
        "    });\n"
        "  }\n"
        "  new MutationObserver(name).observe(document.documentElement, {childList: true, subtree: true});\n"
        "})();\n",
        encoding="utf-8")
    # The widget bundle's icon fonts.
    for f in widgets.iterdir():
        if f.suffix in WIDGET_FILE_SUFFIXES:
            shutil.copy2(f, target / "widgets" / f.name)
    # MathJax (pages with formulas only): the TeX/CHTML bundle, its fonts and the components it
    # loads on demand; not the speech engine (sre, 4 MB), which it only loads when asked.
    (target / "mathjax").mkdir()
    shutil.copy2(mathjax / "tex-chtml.js", target / "mathjax" / "tex-chtml.js")
    for sub in ("input", "ui", "a11y", "output/chtml/fonts/woff-v2"):
        shutil.copytree(mathjax / sub, target / "mathjax" / sub)
    for license_file in ("LICENSE",):
        for pkg in ("requirejs", "@jupyter-widgets/html-manager", "mathjax"):
            src = node_modules / pkg / license_file
            if src.exists():
                shutil.copy2(src, target / f"{pkg.replace('/', '_')}-{license_file}")
    return sorted(p for folder in (target, leaflet_target) for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    ArgumentParser(prog="python -m booktools.vendor",
                   description="Copier les fichiers front-end installés par npm (require.js, ipywidgets, MathJax, "
                               "Leaflet) là où le livre et la bibliothèque les servent, sans CDN.").parse_args(argv)
    try:
        files = vendor()
    except FileNotFoundError as err:
        print(f"booktools.vendor : {err}", file=sys.stderr)
        return 1
    size = sum(f.stat().st_size for f in files)
    print(f"{len(files)} fichiers front-end ({format_fr(size / 1e6, 1, 'Mo')}) copiés dans "
          f"{LEAFLET_DIR.relative_to(REPO_DIR)} et {VENDOR_DIR.relative_to(REPO_DIR)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
