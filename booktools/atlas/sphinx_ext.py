"""The atlas in the book's build.

- The directive ``{atlas-index}`` (in `atlas/index.md`) writes the index by department and commune and
  its search; the page is read again when a file the atlas is made from changes.
- `html-collect-pages` renders a model page in the theme, in `atlas/` (the sheets' folder, so that its
  relative links hold for them); `build-finished` fills that frame once per sheet
  (`atlas/<code>.html`), and writes the CSV files, the map documents and Leaflet beside them.
- Skipping unchanged work: the sheets record a digest of their inputs (the data files, this package's
  code, the analysis of the labs, the frame) in the build's cache; a rebuild with the same digest
  writes nothing. (A rebuild where Sphinx finds nothing out of date does not even get here.)
  The seconds the atlas took are recorded there too (`atlas-timing.json`, read by `make bench`).
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import time
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from dataquartiers import data

from .. import buildcache
from ..catalogue.sphinx_ext import fill_frame, model_page_context
from . import labs as labs_module
from .maps import AtlasMaps, publish_leaflet
from .model import AtlasDataError, build_atlas, input_files
from .pages import ATLAS_DIR, CSV_NAME, DICTIONARY_NAME, MAPS_DIR, atlas_csv, dictionary_csv, index_html, \
    render_sheet, sheet_csv, sheet_docname

logger = logging.getLogger(__name__)
MODEL_ID = "dq-modele-de-fiche"
MODEL_PAGE = f"{ATLAS_DIR}/{MODEL_ID}"
CACHE_KEY = "atlas"
TIMING_FILE = "atlas-timing.json"
CODE_DIR = Path(__file__).resolve().parent
#: Sphinx adds `?v=<checksum>` to a stylesheet once it exists in the output: the frame of the first
#: build after a clean one differs by that alone, which says nothing of the pages' content.
CACHE_BUSTER = re.compile(r"\?(?:v|digest)=[0-9a-f]+")


def datasets_folder(app: Sphinx) -> Path:
    """The book's data package: `datasets/` of the book's source folder, else the library's default."""
    configured = app.config.atlas_datasets
    if configured:
        return (Path(app.srcdir) / configured).resolve()
    local = Path(app.srcdir) / "datasets"
    return local if (local / "datapackage.json").exists() else data.datasets_dir()


def _inputs(app: Sphinx) -> list[Path]:
    """The files the atlas is made from: the data it reads and this package's code."""
    return input_files(datasets_folder(app)) + sorted(CODE_DIR.glob("*.py"))


def _atlas(app: Sphinx):
    """The atlas, made once per build (only when a page needs it)."""
    if getattr(app, "dq_atlas", None) is None:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            app.dq_atlas = build_atlas(datasets_folder(app))
        except (AtlasDataError, FileNotFoundError) as err:
            raise ExtensionError(f"atlas : {err}") from None
        app.dq_atlas_seconds = time.perf_counter() - start
        app.dq_atlas_cpu_seconds = time.process_time() - cpu
    return app.dq_atlas


class AtlasIndexDirective(SphinxDirective):
    """```{atlas-index}```: the neighbourhoods by department and commune, with the search."""

    has_content = False

    def run(self):
        for path in _inputs(self.env.app):
            self.env.note_dependency(str(path))
        atlas = _atlas(self.env.app)
        return [nodes.raw("", index_html(atlas), format="html")]


def _model_page(app: Sphinx):
    if app.builder.format == "html" and f"{ATLAS_DIR}/index" in app.env.found_docs:
        yield MODEL_PAGE, model_page_context(), "page.html"


def _write_timing(app: Sphinx, timing: dict) -> None:
    cache = buildcache.build_cache_dir(app)
    cache.mkdir(parents=True, exist_ok=True)
    (cache / TIMING_FILE).write_text(json.dumps(timing, indent=1), encoding="utf-8")


def _write_sheets(app: Sphinx, exception: Exception | None) -> None:
    model = Path(app.outdir) / f"{MODEL_PAGE}.html"
    if exception is not None or app.builder.format != "html" or f"{ATLAS_DIR}/index" not in app.env.found_docs:
        return
    if not model.is_file():  # Sphinx found nothing out of date and wrote no page: nor does the atlas
        _write_timing(app, {"skipped": True, "build_finished_seconds": 0.0, "build_finished_cpu_seconds": 0.0,
                            "model_seconds": 0.0, "model_cpu_seconds": 0.0})
        return
    start, cpu = time.perf_counter(), time.process_time()
    frame = model.read_text(encoding="utf-8")
    model.unlink()
    out = Path(app.outdir) / ATLAS_DIR
    cache = buildcache.build_cache_dir(app)
    docs = set(app.env.found_docs)
    # What the sheets say of the labs is their analysis (titles, settings, datasets), not their whole
    # notebooks: editing a lab's text or figures leaves the atlas as it is.
    labs = labs_module.read_labs(Path(app.srcdir), datasets_folder(app))
    parts = {"data_and_code": buildcache.inputs_digest(_inputs(app), Path(app.srcdir)),
             "frame": hashlib.sha256(CACHE_BUSTER.sub("", frame).encode()).hexdigest(),
             "labs": hashlib.sha256(repr(labs).encode()).hexdigest(),
             "docs": hashlib.sha256(" ".join(sorted(d for d in docs if d.startswith(("labs/", "datasets/"))))
                                    .encode()).hexdigest()}
    digest = hashlib.sha256("\0".join(parts.values()).encode()).hexdigest()
    timing = {"skipped": True, "digests": parts}  # which input changed, when the atlas is rebuilt
    if not (buildcache.is_unchanged(cache, CACHE_KEY, digest) and (out / CSV_NAME).is_file()):
        timing = {**write_atlas(app, frame, out, docs, labs), "digests": parts}
        buildcache.remember(cache, CACHE_KEY, digest)
        (cache / "atlas-frame.html").write_text(frame, encoding="utf-8")  # to compare with the next one
    # Wall-clock seconds, and processor seconds of this process (steadier on a busy machine).
    timing["build_finished_seconds"] = round(time.perf_counter() - start, 3)
    timing["build_finished_cpu_seconds"] = round(time.process_time() - cpu, 3)
    timing["model_seconds"] = round(getattr(app, "dq_atlas_seconds", 0.0), 3)
    timing["model_cpu_seconds"] = round(getattr(app, "dq_atlas_cpu_seconds", 0.0), 3)
    _write_timing(app, timing)


def _favicon_from_maps(app: Sphinx) -> str | None:
    """The site's favicon (`html_favicon`, which Sphinx copies into _static/) seen from atlas/cartes/."""
    favicon = getattr(app.config, "html_favicon", None)
    if not favicon:
        return None
    if "://" in favicon:
        return favicon
    return f"../../_static/{posixpath.basename(favicon)}"


def write_atlas(app: Sphinx, frame: str, out: Path, docs: set[str], labs: list) -> dict:
    """Every sheet, map document and CSV file of the atlas, in `out` (atlas/ of the site)."""
    atlas = _atlas(app)
    steps = {}
    start = time.perf_counter()
    coverage = labs_module.Coverage(labs, atlas.folder)
    steps["labs_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    atlas_maps = AtlasMaps(atlas, favicon=_favicon_from_maps(app))
    map_of = atlas_maps.map_of()
    (out / MAPS_DIR).mkdir(parents=True, exist_ok=True)
    for name, document in atlas_maps.documents().items():
        (out / MAPS_DIR / name).write_text(document, encoding="utf-8")
    publish_leaflet(out / MAPS_DIR)
    steps["maps_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    pages = {}
    for code, sheet in atlas.sheets.items():
        on_commune = coverage.on([c for c, _ in sheet.communes])
        pages[sheet_docname(code)] = render_sheet(atlas, sheet, on_commune, docs, map_of.get(code))
    steps["render_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    written = set()
    for pagename, page in fill_frame(frame, MODEL_ID, pages).items():
        path = Path(app.outdir) / f"{pagename}.html"
        path.write_text(page, encoding="utf-8")
        written.add(path.name)
    for code, sheet in atlas.sheets.items():
        (out / f"{code}.csv").write_text(sheet_csv(atlas, sheet), encoding="utf-8")
        written.add(f"{code}.csv")
    (out / CSV_NAME).write_text(atlas_csv(atlas), encoding="utf-8")
    (out / DICTIONARY_NAME).write_text(dictionary_csv(atlas), encoding="utf-8")
    for stale in out.glob("QP*.*"):  # a neighbourhood no longer in the tables
        if stale.name not in written:
            stale.unlink()
    steps["write_seconds"] = time.perf_counter() - start
    steps["sheets"] = len(atlas.sheets)
    return {"skipped": False, **{k: round(v, 3) if isinstance(v, float) else v for k, v in steps.items()}}


def setup_sphinx(app: Sphinx) -> None:
    app.add_config_value("atlas_datasets", "", "env")
    app.add_directive("atlas-index", AtlasIndexDirective)
    app.connect("html-collect-pages", _model_page)
    app.connect("build-finished", _write_sheets)
