"""The catalogue in the book's build.

- `builder-inited`: read and check the catalogue; every problem becomes a Sphinx warning with the
  very message `make check-catalogue` prints (so `-W` fails on it). Nothing is written into the
  source tree.
- the directives an author sees in the pages: ```{catalogue-table}``` (the filterable table of
  sources, catalogue/index.md) and ```{catalogue-partners}``` (the directory, partenaires.md).
- `html-collect-pages` and `build-finished`: one page per source, catalogue/fiches/<id>.html, in
  the book's theme (see _source_pages); pages of entries removed since the last build are deleted.
- `build-finished`: publish catalogue.csv, catalogue-tableur.csv and catalogue.jsonld at the root of
  the HTML site (the JSON-LD needs the site's address, `html_baseurl`).
- the role {catalogue}`insee-cog` (or {catalogue}`texte <insee-cog>`) links any page of the book to a
  source page; an unknown id is a warning, like a broken {doc} link.
- every page loads static/dq-recherche-echappee.js, which keeps the search results' titles as text
  (see that file: Sphinx 7.4 shows section titles of the search index as HTML).
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective, SphinxRole
from sphinx.util.nodes import split_explicit_title

from .exports import write_exports
from .model import CATALOGUE_DIR, load_catalogue
from .pages import PAGES_DIR, fiche_docname, partners_directory, render_fiches, sources_table

logger = logging.getLogger(__name__)
GENERATED = f"{CATALOGUE_DIR}/{PAGES_DIR}/"
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: The catalogue's inputs: a document showing the catalogue is read again when one of them changes.
_INPUTS = ("catalogue/sources", "catalogue/partners")


def build_date() -> dt.date:
    """The day of the build; SOURCE_DATE_EPOCH (reproducible builds) wins when it is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()
    return dt.date.today()


def _generate(app: Sphinx) -> None:
    root = Path(app.srcdir)
    if not (root / CATALOGUE_DIR).is_dir():
        return
    try:
        cat = load_catalogue(root, build_date())
    except Exception as err:  # noqa: BLE001 - the build reports, it never shows a traceback for a file
        logger.warning(f"catalogue : la vérification n'a pas pu se faire ({err.__class__.__name__}) ; "
                       "lancez python -m booktools.catalogue check pour le détail", type="catalogue", subtype="check")
        return
    for problem in cat.problems:
        logger.warning(str(problem), type="catalogue", subtype="check")
    app.dq_catalogue = cat  # read again by the directives, the source pages, the role and the exports


def _catalogue_of(directive: SphinxDirective):
    cat = getattr(directive.env.app, "dq_catalogue", None)
    if not hasattr(directive.env, "dq_catalogue_docs"):
        directive.env.dq_catalogue_docs = set()
    directive.env.dq_catalogue_docs.add(directive.env.docname)
    for folder in _INPUTS:  # a change to an entry makes Sphinx read this page again
        base = Path(directive.env.srcdir) / folder
        if base.is_dir():
            for path in sorted(base.glob("*.yml")):
                directive.env.note_dependency(str(path))
    return cat


class CatalogueTable(SphinxDirective):
    """```{catalogue-table}```: the filterable table of the catalogue's sources."""

    def run(self):
        cat = _catalogue_of(self)
        if cat is None:
            return []
        html = sources_table(cat, self.env.docname)
        return [nodes.raw("", html, format="html")]


class CataloguePartners(SphinxDirective):
    """```{catalogue-partners}```: the partner directory, by role, then one section per organisation."""

    def run(self):
        cat = _catalogue_of(self)
        if cat is None:
            return []
        return partners_directory(cat, self.env.docname)


def _outdated(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Pages that show the catalogue are read again at every build: an entry may have been added."""
    return sorted(getattr(env, "dq_catalogue_docs", set()) - set(removed))


def _purge(app: Sphinx, env, docname: str) -> None:
    getattr(env, "dq_catalogue_docs", set()).discard(docname)


def _merge(app: Sphinx, env, docnames, other) -> None:
    env.dq_catalogue_docs = getattr(env, "dq_catalogue_docs", set()) | getattr(other, "dq_catalogue_docs", set())


def _add_static(app: Sphinx, config) -> None:
    config.html_static_path.append(str(STATIC_DIR))


def _page_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """The table's script and style, on the pages that show the table only."""
    if doctree is not None and any("dq-catalogue" in node.astext() for node in doctree.findall(nodes.raw)):
        app.add_js_file("dq-catalogue-filtres.js", loading_method="defer")
        app.add_css_file("dq-catalogue.css")


# Source pages: the theme's frame (header, sidebars, footer) is the same for every one of them --
# same folder, none in the toctree -- and rendering it costs the theme 10 to 20 ms a page. So it is
# rendered once, through the theme, for a model page holding markers; every source page is that
# frame with the markers replaced (thousands of pages in a few seconds instead of minutes).
MODEL_ID = "dq-modele-de-fiche"
MODEL_PAGE = f"{GENERATED}{MODEL_ID}"
_TITLE, _BODY, _TOC_TITLE = "DQMODELETITRE", "<!--DQMODELECORPS-->", "DQMODELERUBRIQUE"


def _model_toc() -> str:
    return (f'<ul><li><a class="reference internal" href="#">{_TITLE}</a><ul><li><a class="reference internal" '
            f'href="#{_TOC_TITLE.lower()}">{_TOC_TITLE}</a></li></ul></li></ul>')


def model_page_context() -> dict:
    """What the theme's page.html needs from a document's context (Sphinx's get_doc_context), with
    the markers `fill_frame` replaces. Other generated pages (the atlas) use the same frame."""
    # `pagetitle`: the print-only heading of sphinx-book-theme, empty otherwise (a blank <h1>).
    return {"title": _TITLE, "pagetitle": _TITLE, "body": _BODY, "toc": _model_toc(), "display_toc": True, "meta": {},
            "metatags": "", "sourcename": "", "page_source_suffix": "", "parents": [],
            "prev": None, "next": None, "rellinks": []}


def _source_pages(app: Sphinx):
    if getattr(app, "dq_catalogue", None) is None:
        return
    yield MODEL_PAGE, model_page_context(), "page.html"


def fill_frame(frame: str, model_id: str, pages: dict[str, tuple[str, str, str]]) -> dict[str, str]:
    """Each source page from the rendered model page: pagename -> HTML."""
    # The theme rewrites the page's table of contents (pydata: one <li> per section); take the
    # model's entry as the pattern of each section's. A theme that prints the table as given, or
    # not at all, is handled too.
    item = re.search(r"<li[^>]*>\s*<a[^>]*href=\"#" + _TOC_TITLE.lower() + r"\"[^>]*>" + _TOC_TITLE
                     + r"</a>\s*</li>", frame)
    out = {}
    for pagename, (title, body, toc) in pages.items():
        page_id = pagename.rsplit("/", 1)[1]
        if item is not None:
            anchors = re.findall(r'<li><a class="reference internal" href="#([^"]+)">(.*?)</a></li>', toc)
            html = frame.replace(item.group(0), "".join(
                item.group(0).replace(_TOC_TITLE.lower(), anchor).replace(_TOC_TITLE, text) for anchor, text in anchors))
        else:
            html = frame.replace(_model_toc(), toc.replace(title, _TITLE))
        html = html.replace(model_id, page_id)
        # YAML texts only enter with the body and the title, after every marker is replaced.
        head, _, tail = html.partition(_BODY)
        out[pagename] = head.replace(_TITLE, title) + body + tail.replace(_TITLE, title)
    return out


def _write_source_pages(app: Sphinx, exception: Exception | None) -> None:
    cat = getattr(app, "dq_catalogue", None)
    model = Path(app.outdir) / f"{MODEL_PAGE}.html"
    if exception is not None or cat is None or app.builder.format != "html" or not model.is_file():
        return
    frame = model.read_text(encoding="utf-8")
    model.unlink()
    pages = render_fiches(cat, set(app.env.found_docs), edit_base(app))
    written = set()
    for pagename, html in fill_frame(frame, MODEL_ID, pages).items():
        path = Path(app.outdir) / f"{pagename}.html"
        path.write_text(html, encoding="utf-8")
        written.add(path.name)
    # An entry removed (or now invalid) since the last build: its page goes too.
    for old in model.parent.glob("*.html"):
        if old.name not in written:
            old.unlink()


def _publish_exports(app: Sphinx, exception: Exception | None) -> None:
    cat = getattr(app, "dq_catalogue", None)
    if exception is not None or cat is None or app.builder.format != "html":
        return
    base = app.config.html_baseurl or ""
    if not base:
        logger.warning("catalogue : html_baseurl (l'adresse du site) n'est pas réglé dans _config.yml ; "
                       "catalogue.jsonld n'est pas publié, car un catalogue moissonnable exige des adresses "
                       "absolues", type="catalogue", subtype="export")
    write_exports(cat, app.outdir, base)


def edit_base(app: Sphinx) -> str | None:
    """The forge's web-editor address for the book's files, from Jupyter Book's repository settings.

    Source pages are not Sphinx documents, so the theme gives them no "edit this page" button; the
    page links to the editor of its YAML file instead.
    """
    options = app.config.html_theme_options or {}
    url = str(options.get("repository_url") or "").rstrip("/")
    if "github.com" not in url or str(options.get("use_edit_page_button", "")).lower() not in ("true", "1"):
        return None
    docs = str(options.get("path_to_docs") or "").strip("/")
    return f"{url}/edit/{options.get('repository_branch') or 'main'}/" + (f"{docs}/" if docs else "")


class CatalogueRole(SphinxRole):
    """{catalogue}`insee-cog`: a link to the page of a source, titled with the source's title."""

    def run(self):
        has_title, title, source_id = split_explicit_title(self.text)
        cat = getattr(self.env.app, "dq_catalogue", None)
        entry = cat.sources.get(source_id) if cat else None
        if entry is None or not entry.valid:
            message = self.inliner.reporter.warning(
                f"catalogue : « {source_id} » n'est pas une source du catalogue "
                f"(pas de fichier valide {CATALOGUE_DIR}/sources/{source_id}.yml)", line=self.lineno)
            return [nodes.inline(self.rawtext, title)], [message]
        uri = posixpath.relpath(f"{fiche_docname(source_id)}.html", posixpath.dirname(self.env.docname) or ".")
        text = title if has_title else entry.data["title"]
        return [nodes.reference(self.rawtext, text, refuri=uri, internal=True)], []


def setup_sphinx(app: Sphinx) -> None:
    app.connect("config-inited", _add_static)
    app.add_js_file("dq-recherche-echappee.js", loading_method="defer")
    app.add_directive("catalogue-table", CatalogueTable)
    app.add_directive("catalogue-partners", CataloguePartners)
    app.connect("html-page-context", _page_assets)
    app.connect("env-get-outdated", _outdated)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("builder-inited", _generate)
    app.connect("html-collect-pages", _source_pages)
    app.connect("build-finished", _write_source_pages)
    app.connect("build-finished", _publish_exports)
    app.add_role("catalogue", CatalogueRole())
