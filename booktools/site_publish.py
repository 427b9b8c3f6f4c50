"""Publishing the book as a web site: addresses, theme in French, light pages, launch menu.

What Jupyter Book's `_config.yml` cannot say by itself, done through Sphinx's own mechanisms:

- **One address.** The site's address is `html.baseurl` and the repository's `repository.url`, both in
  `_config.yml`; everything else reads them: canonical links (Sphinx), Open Graph tags
  (sphinxext-opengraph), `sitemap.xml` (sphinx-sitemap), the 404 page's links (sphinx-notfound-page),
  `robots.txt` (written here), the catalogue's exports.
- **The theme's frame** (`site_theme/templates/`): template overrides of sphinx-book-theme and
  pydata-sphinx-theme, each with a comment saying what it changes (no fontawesome.js, no search
  index on pages that do not search, a printed title on every page, French names, names for the
  sidebar's toggles). The theme's labels it leaves in English are translated by a message catalogue
  (`site_theme/locales/`), compiled here at each build.
- **Search** finds words without their accents: the French stemmer of Sphinx, applied to words whose
  accents are removed, in the index (Python) and in the page (JavaScript) alike. Numbers, which the
  search page never looks up, are left out of the index.
- **Launch menu** of a lab: JupyterLite and the lab's zip (a JupyterHub/Onyxia entry only when
  `launch_buttons.jupyterhub_url` is set, drawn by the theme); no Binder or Colab, which would have
  neither the library nor the data.
- `site_theme/static/`: the favicon, `dq-site.css` (dark-mode contrast, narrow screens, scroll
  hints) and `dq-site.js` (clean search snippets; hints on wide tables).
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.search.fr import SearchFrench
from sphinx.util import logging
from sphinx.util.docutils import SphinxRole
from sphinx.util.nodes import split_explicit_title

from . import bundles, lite

logger = logging.getLogger(__name__)

THEME_DIR = Path(__file__).resolve().parent / "site_theme"
TEMPLATES_DIR = THEME_DIR / "templates"
STATIC_DIR = THEME_DIR / "static"
LOCALES_DIR = THEME_DIR / "locales"
#: Message catalogues of the theme completed in French (domain -> the .po beside this module).
CATALOGUES = ("booktheme",)

#: Folders of the built site that hold no page of the book (JupyterLite, assets, downloads).
NOT_PAGES = ("_static", "_sources", "_downloads", "_images", "lite", "bundles", "jupyter_execute")
#: Pages that are in the site but not for search engines.
NOT_IN_SITEMAP = ("search.html", "genindex.html", "404.html")


# --- the site's address ----------------------------------------------------------------------

def site_address(config) -> str:
    """`html_baseurl` with its final slash: the one place the site's address is written."""
    base = (config.html_baseurl or "").strip()
    return base if not base or base.endswith("/") else base + "/"


def site_path(config) -> str:
    """The path part of the site's address (`/data-et-quartiers/` on GitHub Pages), '/' without one."""
    path = urlsplit(site_address(config)).path or "/"
    return path if path.endswith("/") else path + "/"


def _configure(app: Sphinx, config) -> None:
    base = site_address(config)
    if not base:
        logger.warning("html.baseurl est vide dans _config.yml : indiquez l'adresse du site publié "
                       "(liens canoniques, sitemap.xml, balises Open Graph, page 404).",
                       type="dq-site", subtype="config")
    config.html_baseurl = base
    if not config.ogp_site_url:
        config.ogp_site_url = base
    config.notfound_urls_prefix = site_path(config)
    config.sitemap_excludes = [*config.sitemap_excludes, *NOT_IN_SITEMAP]
    # first, before the themes' own folders (pydata-sphinx-theme puts its components/ on the path)
    config.templates_path = [str(TEMPLATES_DIR), str(TEMPLATES_DIR / "components"), *config.templates_path]
    config.html_static_path = [*config.html_static_path, str(STATIC_DIR)]


# --- the theme in French -----------------------------------------------------------------------

def _compile_catalogues(app: Sphinx) -> Path:
    """Compile site_theme/locales/*.po into the build folder (never into the sources)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    out = Path(app.doctreedir) / "dq-locales"
    for domain in CATALOGUES:
        po = LOCALES_DIR / "fr" / "LC_MESSAGES" / f"{domain}.po"
        mo = out / "fr" / "LC_MESSAGES" / f"{domain}.mo"
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            mo.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as src:
                catalogue = read_po(src, locale="fr")
            with mo.open("wb") as dst:
                write_mo(dst, catalogue)
    return out


def name_toggles(toctree_html: str) -> str:
    """Give each expand/collapse toggle of the sidebar a name: « Sous-parties de "Les labs" ».

    pydata-sphinx-theme draws them as <summary> elements holding a decorative chevron only.
    """
    from bs4 import BeautifulSoup
    from markupsafe import Markup

    soup = BeautifulSoup(str(toctree_html), "html.parser")
    for summary in soup.find_all("summary"):
        if summary.get("aria-label") or summary.get_text(strip=True):
            continue
        item = summary.find_parent("li")
        link = item.find("a", recursive=False) if item else None
        name = link.get_text(" ", strip=True) if link else ""
        summary["aria-label"] = f"Sous-parties de « {name} »" if name else "Afficher ou masquer les sous-parties"
        for icon in summary.find_all("i"):
            icon["aria-hidden"] = "true"
    return Markup(str(soup))


def _template_filters(app: Sphinx) -> None:
    if app.builder.format == "html" and hasattr(app.builder, "templates"):
        app.builder.templates.environment.filters["dq_name_toggles"] = name_toggles


# --- search without accents --------------------------------------------------------------------

def fold(word: str) -> str:
    """Lower case, accents removed: « Fragilité » -> « fragilite » (œ and æ stay: no decomposition)."""
    return "".join(c for c in unicodedata.normalize("NFD", word.lower()) if not unicodedata.combining(c))


def _sphinx_minified(name: str) -> str:
    import sphinx.search

    return (Path(sphinx.search.__file__).parent / "minified-js" / name).read_text(encoding="utf-8")


#: Tokens that are code or markup rather than words: identifiers (`abc_bac_f`), and letters glued to
#: digits beyond four characters (table cells run together, colours: `0ouvert5`, `3f2b0c0`). Short
#: ones such as « C2S », « 1er », « 2e » stay searchable.
NOT_A_WORD = re.compile(r"_|^(?=.*\d)(?=.*[a-z]).{5,}$")


class SearchFrenchFolded(SearchFrench):
    """Sphinx's French search, on words without accents, in the index and in the browser alike.

    Sphinx stems the French words of the index and of the query with the Snowball stemmer; a query
    typed without accents ("fragilite") did not meet the stem of the accented word ("fragil"). Both
    sides now remove the accents first, then stem. Numbers are not indexed: the search page never
    looks them up (searchtools.js skips every query term made of digits); nor are words kept with
    their capitals or accents, which the page never looks up either, nor code (NOT_A_WORD).
    """

    js_stemmer_rawcode = ""  # the code below is used as it is (Sphinx's minified stemmer, wrapped)
    js_stemmer_code = (
        _sphinx_minified("base-stemmer.js") + "\n" + _sphinx_minified("french-stemmer.js") + """
/* Data & Quartiers: the French stemmer on words without accents (booktools/site_publish.py). */
var Stemmer = function() {
  const french = new FrenchStemmer();
  this.stemWord = function(word) {
    return french.stemWord(word.toLowerCase().normalize("NFD").replace(/[\\u0300-\\u036f]/g, ""));
  };
};
""")

    def stem(self, word: str) -> str:
        return self.stemmer.stemWord(fold(word))

    def word_filter(self, word: str) -> bool:
        # Sphinx indexes a word as typed when its stem is filtered out ("Au" for the stopword
        # "au"): such words, never looked up by the page, stay out, as do numbers.
        return (super().word_filter(word) and not word.isdigit() and word == fold(word)
                and word not in self.stopwords and not NOT_A_WORD.search(word))


# --- the launch menu of a lab ------------------------------------------------------------------

def launch_entries(pagename: str, srcdir: Path, interface: str) -> list[dict]:
    """The launch menu's entries of a page: JupyterLite for every notebook the lite site holds (labs
    and the self-assessment tool), the zip for the labs. Relative addresses: the site works from any
    folder, online or from a laptop in a training room."""
    notebook = Path(srcdir) / f"{pagename}.ipynb"
    is_lab = pagename.startswith("labs/") and pagename.count("/") == 1 and notebook.exists()
    if not is_lab and f"{pagename}.ipynb" not in lite.SELF_ASSESSMENT_FILES:
        return []
    up = "../" * pagename.count("/")
    entries = [{"type": "link", "text": "Dans le navigateur (JupyterLite)",
                "tooltip": "Ouvrir ce notebook dans le navigateur, sans installation",
                "icon": "_static/images/logo_jupyterlite.svg",
                "url": f"{up}{lite.LITE_DIR}/{lite.launch_url(notebook, interface, srcdir)}"}]
    if is_lab:
        entries.append({"type": "link", "text": "Télécharger le lab (zip)",
                        "tooltip": "Le notebook, ses données et son mode d'emploi, pour votre ordinateur",
                        "icon": "fa-solid fa-file-zipper",
                        "url": f"{up}{bundles.BUNDLES_DIR}/{Path(pagename).name}.zip"})
    return entries


def _launch_menu(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    buttons = context.get("header_buttons")
    if buttons is None:
        return
    entries = launch_entries(pagename, Path(app.srcdir), lite.load_config(Path(app.srcdir) / lite.CONFIG_FILE_NAME).interface)
    if not entries:
        return
    group = next((b for b in buttons if b.get("label") == "launch-buttons"), None)
    if group is None:  # no JupyterHub configured: the theme drew no menu
        group = {"type": "group", "tooltip": "Ouvrir ce notebook", "icon": "fas fa-rocket",
                 "buttons": [], "label": "launch-buttons"}
        buttons.append(group)
    group["buttons"][:0] = entries


# --- the repository's address in a page ---------------------------------------------------------

def repository_address(config) -> str:
    """`repository.url` of _config.yml (the theme's `repository_url`), without its final slash."""
    return str((config.html_theme_options or {}).get("repository_url") or "").rstrip("/")


class RepositoryRole(SphinxRole):
    """{depot}`ouvrir un ticket <issues/new>`: a link into the project's repository, whose address is
    written once, in _config.yml (`repository.url`). Without a path, the repository itself."""

    def run(self):
        has_title, title, path = split_explicit_title(self.text)
        base = repository_address(self.config)
        if not base:
            message = self.inliner.reporter.warning(
                "repository.url est vide dans _config.yml : le lien {depot} n'a pas d'adresse.", line=self.lineno)
            return [nodes.inline(self.rawtext, title)], [message]
        url = f"{base}/{path.lstrip('/')}" if has_title else base
        return [nodes.reference(self.rawtext, title if has_title else base, refuri=url)], []


# --- sitemap.xml and robots.txt ----------------------------------------------------------------

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def site_pages(site: Path) -> list[str]:
    """Every page of the built site (relative paths), generated pages included; JupyterLite excluded."""
    site = Path(site)
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if p.relative_to(site).parts[0] not in NOT_PAGES)


def _redirect_only(page: Path) -> bool:
    return 'http-equiv="refresh"' in page.read_text(encoding="utf-8", errors="replace")[:2000].lower()


def complete_sitemap(site: Path, base: str) -> int:
    """Make sitemap.xml list every page of the built site.

    sphinx-sitemap lists the Sphinx documents; the pages other parts of the book write themselves
    (catalogue sheets, the atlas…) are not documents. Entries of files that do not exist (a model
    page removed after use) go. Returns the number of entries.
    """
    path = Path(site) / "sitemap.xml"
    ET.register_namespace("", SITEMAP_NS)
    tree = ET.parse(path)
    root = tree.getroot()
    listed = {}
    for url in list(root):
        loc = url.find(f"{{{SITEMAP_NS}}}loc")
        rel = (loc.text or "")[len(base):] if loc is not None and (loc.text or "").startswith(base) else None
        if rel is None or not (Path(site) / rel).is_file() or rel.rsplit("/", 1)[-1] in NOT_IN_SITEMAP:
            root.remove(url)
        else:
            listed[rel] = url
    for rel in site_pages(site):
        if rel in listed or rel.rsplit("/", 1)[-1] in NOT_IN_SITEMAP or _redirect_only(Path(site) / rel):
            continue
        url = ET.SubElement(root, f"{{{SITEMAP_NS}}}url")
        ET.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = base + rel
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return len(root)


ROBOTS = """# Data & Quartiers : écrit par booktools/site_publish.py depuis html.baseurl (_config.yml)
User-agent: *
Disallow: {path}{lite}/
Sitemap: {base}sitemap.xml
"""


def _publish_files(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    base = site_address(app.config)
    out = Path(app.outdir)
    # GitHub Pages published from a branch would run Jekyll, which drops every folder starting
    # with "_" (_static…); the Actions workflow does not, but the site must not depend on it.
    (out / ".nojekyll").write_text("", encoding="utf-8")
    (out / "robots.txt").write_text(ROBOTS.format(path=site_path(app.config), lite=lite.LITE_DIR, base=base),
                                    encoding="utf-8")
    if (out / "sitemap.xml").exists():
        complete_sitemap(out, base)


def setup(app: Sphinx) -> None:
    """Called by booktools.book.setup."""
    for extension in ("sphinx_sitemap", "sphinxext.opengraph", "notfound.extension"):
        app.setup_extension(extension)
    app.connect("config-inited", _configure)
    for domain in CATALOGUES:
        app.add_message_catalog(domain, str(_compile_catalogues(app)))
    app.add_search_language(SearchFrenchFolded)
    app.add_role("depot", RepositoryRole())
    app.connect("builder-inited", _template_filters)
    app.add_css_file("dq-site.css")
    app.add_js_file("dq-site.js", loading_method="defer")
    # after sphinx-book-theme's header buttons (priority 501)
    app.connect("html-page-context", _launch_menu, priority=502)
    # after every other part has written its pages (the catalogue's sheets, the atlas…)
    app.connect("build-finished", _publish_files, priority=900)
