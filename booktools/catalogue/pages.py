"""Turn the catalogue into pages: one HTML page per source, the filterable table of sources and the
partner directory grouped by role.

- The source pages and the table are HTML made by Jinja2 templates with autoescape
  (booktools/catalogue/templates/): every text from a YAML file is escaped by Jinja2, never by hand.
  They are HTML rather than Sphinx documents because a Sphinx document per source would cost 50 ms or
  more each to read and write, far too much for thousands of entries (`make bench`).
- The partner directory is made of docutils nodes (sections, paragraphs, lists, references): real
  headings in the page's table of contents, and text nodes that Sphinx's writer escapes.
- The pages that show them say so in their source, with a directive an author can see
  (```{catalogue-table}``` in catalogue/index.md, ```{catalogue-partners}``` in partenaires.md; see
  sphinx_ext.py). Nothing is written into the source tree by the build.

A URL only becomes a link once it is a checked http(s) address.
"""

from __future__ import annotations

import posixpath
import re
import string
from functools import lru_cache
from pathlib import Path

from docutils import nodes
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from .model import CATALOGUE_DIR, Catalogue, Entry, _is_url, label, quality, terms

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: The source pages are published here in the site: catalogue/fiches/<id>.html.
PAGES_DIR = "fiches"
DIRECTORY_PAGE = f"{CATALOGUE_DIR}/partenaires"
SUFFIXES = (".md", ".ipynb", ".rst")
_ESCAPED = {ord(c): "\\" + c for c in string.punctuation}

COLUMNS = ["Source", "Producteur", "Thèmes", "Maille la plus fine", "Licence", "Accès", "Qualité"]
#: The filters of the table: (select id, label, column index, several values per cell?)
FILTERS = [
    ("theme", "Thème", 2, True),
    ("maille", "Maille la plus fine", 3, False),
    ("producteur", "Producteur", 1, False),
    ("licence", "Licence", 4, True),  # "ODbL, à vérifier": the licence, and the unverified ones together
    ("acces", "Accès", 5, False),
]


# --- templates --------------------------------------------------------------------------------

def _paragraphs(text: object) -> list[str]:
    """Blank lines separate paragraphs; inside one, line breaks and runs of spaces are one space."""
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", str(text).replace("\r\n", "\n")) if p.strip()]


@lru_cache(maxsize=None)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=False)
    env.filters["paragraphs"] = _paragraphs
    return env


def _macros():
    return environment().get_template("macros.html").module


_LINK = Markup('<a class="{}" href="{}">{}</a>')


def link(text: object, url: str | None, css: str = "reference external") -> Markup:
    """A link (escaped text and address); plain escaped text when there is no address.

    The same as the templates' `link` macro, through markupsafe's escaping format (a macro call per
    link costs too much for thousands of pages)."""
    text = " ".join(str(text).split())
    return _LINK.format(css, url, text) if url else Markup.escape(text)


def external(text: object, url: object) -> Markup:
    """A link only when `url` is a checked http(s) address."""
    return link(text, url) if _is_url(url) else Markup.escape(" ".join(str(text).split()))


def md(text: object) -> str:
    """Plain text made safe for one line of MyST Markdown: shown exactly as typed (field reference)."""
    return " ".join(str(text).split()).translate(_ESCAPED)


def fiche_docname(source_id: str) -> str:
    """Where a source page is published: catalogue/fiches/<id> (.html)."""
    return f"{CATALOGUE_DIR}/{PAGES_DIR}/{source_id}"


def partner_target(partner_id: str) -> str:
    return f"partenaire-{partner_id}"


class Links:
    """Relative URLs from one page of the site to the others (the HTML builder's layout, docname.html).

    `docs` is the set of the book's documents (Sphinx's found_docs); without it, a document exists
    when its source file does under `root`. A missing document gives None: the caller writes plain
    text instead of a dead link.
    """

    def __init__(self, root: Path, page: str, docs: set[str] | None = None):
        self.root, self.page, self.docs = Path(root), page, docs

    def _to(self, path: str) -> str:
        return posixpath.relpath(path, posixpath.dirname(self.page) or ".")

    def doc(self, docname: str) -> str | None:
        exists = (docname in self.docs if self.docs is not None
                  else any((self.root / f"{docname}{s}").is_file() for s in SUFFIXES))
        return self._to(f"{docname}.html") if exists else None

    def fiche(self, source_id: str) -> str:
        return self._to(f"{fiche_docname(source_id)}.html")

    def partner(self, partner_id: str) -> str:
        return self._to(f"{DIRECTORY_PAGE}.html") + f"#{partner_target(partner_id)}"


def _period(temporal: dict) -> str:
    start, end = temporal.get("start"), temporal.get("end")
    if start and end:
        return f"de {start} à {end}" if start != end else str(start)
    return f"depuis {start}" if start else ""


def _publisher(data: dict) -> str:
    return str((data.get("publisher") or {}).get("name", ""))


def short_publisher(data: dict) -> str:
    """The acronym closing the producer's name, « … (INSEE) », when there is one: the table stays narrow."""
    name = _publisher(data)
    match = re.search(r"\(([^()]{2,12})\)$", name)
    return match.group(1) if match else name


def partner_name(entry: Entry) -> str:
    acronym = entry.data.get("acronym")
    return f"{entry.data['name']} ({acronym})" if acronym and acronym not in entry.data["name"] else entry.data["name"]


def sources_of_partner(cat: Catalogue, partner_id: str) -> list[Entry]:
    """Sources linked to a partner, whichever file states the link."""
    listed = set((cat.partners[partner_id].data.get("sources") or []) if partner_id in cat.partners else [])
    return [e for e in cat.valid_sources()
            if e.id in listed or partner_id in (e.data.get("partners") or [])]


def partners_of_source(cat: Catalogue, source_id: str) -> list[Entry]:
    source = cat.sources.get(source_id)
    listed = set((source.data.get("partners") or []) if source else [])
    return [p for p in cat.valid_partners()
            if p.id in listed or source_id in (p.data.get("sources") or [])]


# --- one page per source ----------------------------------------------------------------------

SECTIONS = [("fiche", "Fiche"), ("obtenir-les-donnees", "Obtenir les données"), ("qualite", None),
            ("limites", "Limites connues"), ("dans-le-livre", "Dans le livre"), ("source", "Source")]


def source_page(cat: Catalogue, entry: Entry, links: Links | None = None,
                edit_base: str | None = None) -> tuple[str, str, str]:
    """One source page: (title, body, toc) in HTML, every YAML text escaped by the templates.

    `edit_base` is the forge's address for editing a file of the repository (".../edit/main/"): the
    page then links to the web editor of its YAML file.
    """
    links = links or Links(cat.root, fiche_docname(entry.id))
    data = entry.data
    licence_terms = terms("source", "licence").get(data["licence"], {})
    unverified = data["licence_status"] == "unverified"

    licence = external(licence_terms.get("label", data["licence"]), licence_terms.get("url"))
    licence += Markup(" (<strong>à vérifier</strong>)") if unverified else " (vérifiée)"
    if data.get("licence_note") and not unverified:
        licence += " : " + data["licence_note"]
    access = Markup.escape(label("source", "access", data["access"]))
    if data.get("access_note"):
        access += " : " + data["access_note"]
    rows = [
        ["Producteur", external(_publisher(data), data["publisher"].get("url"))],
        ["Page de référence", external(data["landing_page"], data["landing_page"])],
        ["Licence", licence],
        ["Accès", access],
        ["Couverture géographique", data["spatial_coverage"]],
        ["Maille la plus fine", label("source", "granularity", data["granularity"])],
        ["Géographie de référence", ", ".join(data.get("geography_vintage") or []) or "non précisée"],
        ["Période couverte", _period(data["temporal"])],
        ["Mise à jour", label("source", "frequency", data["frequency"])],
        ["Thèmes", ", ".join(label("source", "themes", t) for t in data["themes"])],
        ["Mots-clés", ", ".join(data.get("keywords") or []) or "aucun"],
        ["Données personnelles", label("source", "personal_data", data["personal_data"])],
        ["Dernière revue de la fiche", data["last_reviewed"]],
    ]
    formats = terms("source", "distributions.format")
    distributions = []
    for dist in data["distributions"]:
        found = [external("page d'accès", dist["url"])]
        if dist.get("download_url"):
            found.append(external("téléchargement direct", dist["download_url"]))
        distributions.append([dist["title"], formats.get(dist["format"], {}).get("label", dist["format"]),
                              Markup(" ; ").join(found)])
    criteria = quality(data, cat.today)
    passed = sum(c.passed for c in criteria)

    in_book = []
    labs = [(lab, links.doc(f"labs/{lab}")) for lab in data.get("labs") or [] if lab in cat.labs]
    if labs:
        in_book.append("Labs qui l'utilisent : " + Markup(", ").join(link(lab, url, "reference internal")
                                                                     for lab, url in labs))
    datasets = cat.datasets.get(entry.id, [])
    if datasets:
        # The datasets page labels each resource `dataset-<name>` (booktools/datasets_page.py).
        page = links.doc("datasets/index")
        names = Markup(", ").join(link(title or name, page and f"{page}#{nodes.make_id('dataset-' + name)}",
                                       "reference internal") for name, title in datasets)
        in_book.append(link("Jeux de données des labs", page, "reference internal")
                       + " tirés de cette source : " + names)
    partners = partners_of_source(cat, entry.id)
    if partners:
        in_book.append("Partenaires de l'annuaire liés : " + Markup(", ").join(
            link(partner_name(p), links.partner(p.id), "reference internal") for p in partners))

    quality_title = f"Qualité des métadonnées : {passed} sur {len(criteria)}"
    view = {
        "id": entry.id, "unverified": unverified, "rows": rows, "distributions": distributions,
        "criteria": [[c.label, "oui" if c.passed else Markup("<strong>non</strong>"), c.detail] for c in criteria],
        "quality_title": quality_title, "today": cat.today.isoformat(), "in_book": in_book,
        "publisher": _publisher(data), "path": entry.path,
        "source_link": external(data["title"], data["landing_page"]),
        "edit_link": link("la modifier dans l’éditeur de la forge", edit_base + entry.path) if edit_base else None,
        "guide_link": link("comment la mettre à jour", links.doc(f"{CATALOGUE_DIR}/guide"), "reference internal"),
        "index_link": link("Retour au catalogue", links.doc(f"{CATALOGUE_DIR}/index"), "reference internal"),
    }
    body = environment().get_template("fiche.html").render(d=data, page=view)
    present = {"limites": bool(data.get("limitations")), "dans-le-livre": bool(in_book)}
    sections = [(anchor, text or quality_title) for anchor, text in SECTIONS if present.get(anchor, True)]
    toc = environment().get_template("fiche-toc.html").render(title=" ".join(data["title"].split()),
                                                               sections=sections)
    return str(Markup.escape(" ".join(data["title"].split()))), body, toc


def render_fiches(cat: Catalogue, docs: set[str] | None = None,
                  edit_base: str | None = None) -> dict[str, tuple[str, str, str]]:
    """Every source page: pagename -> (title, body, toc), in HTML."""
    return {fiche_docname(e.id): source_page(cat, e, Links(cat.root, fiche_docname(e.id), docs), edit_base)
            for e in cat.valid_sources()}


# --- the table of sources, with its filters ---------------------------------------------------

def _cell_values(cat: Catalogue, entry: Entry) -> list[str]:
    data = entry.data
    criteria = quality(data, cat.today)
    passed = sum(c.passed for c in criteria)
    return [
        " ".join(data["title"].split()),
        " ".join(short_publisher(data).split()),
        ", ".join(label("source", "themes", t) for t in data["themes"]),
        label("source", "granularity", data["granularity"]),
        terms("source", "licence")[data["licence"]]["short"]
        + (", à vérifier" if data["licence_status"] == "unverified" else ""),
        label("source", "access", data["access"]),
        f"{passed}/{len(criteria)}",
    ]


def _options(values: list[str], order: list[str] | None = None) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    keys = [v for v in order if v in counts] if order else sorted(counts, key=str.casefold)
    return [(k, counts[k]) for k in keys]


def sources_table(cat: Catalogue, page: str = f"{CATALOGUE_DIR}/index") -> str:
    """The HTML of the filter form and of the table (what ```{catalogue-table}``` shows)."""
    entries = sorted(cat.valid_sources(), key=lambda e: e.data["title"].casefold())
    cells = [_cell_values(cat, e) for e in entries]
    filters = []
    for key, text, column, several in FILTERS:
        values = [v for row in cells for v in (row[column].split(", ") if several else [row[column]])]
        order = None
        if key == "maille":
            order = [t["label"] for t in terms("source", "granularity").values()]
        elif key == "acces":
            order = [t["label"] for t in terms("source", "access").values()]
        filters.append((key, text, column, several, _options(values, order)))
    links = Links(cat.root, page)
    rows = [[link(row[0], links.fiche(entry.id), "reference internal")] + row[1:]
            for entry, row in zip(entries, cells)]
    return environment().get_template("table.html").render(filters=filters, columns=COLUMNS, rows=rows)


# --- the partner directory, as docutils nodes -------------------------------------------------

def _section(ids: str, title: str) -> nodes.section:
    section = nodes.section(ids=[ids])
    section += nodes.title(text=title)
    return section


def _item(*parts) -> nodes.list_item:
    """A list item of text and (text, refuri) links."""
    paragraph = nodes.paragraph()
    for part in parts:
        if isinstance(part, tuple):
            text, uri = part
            paragraph += nodes.reference(text=text, refuri=uri, internal=not _is_url(uri))
        else:
            paragraph += nodes.Text(part)
    return nodes.list_item("", paragraph)


def partners_directory(cat: Catalogue, page: str = DIRECTORY_PAGE) -> list[nodes.Node]:
    """The directory: an introduction, one section per role with its table, then one section per
    organisation (id `partenaire-<id>`, the anchor the source pages link to)."""
    partners = sorted(cat.valid_partners(), key=lambda e: e.data["name"].casefold())
    roles = terms("partner", "roles")
    links = Links(cat.root, page)
    out: list[nodes.Node] = [nodes.paragraph(text=(
        f"L'annuaire compte {len(partners)} organisations. Une organisation qui tient plusieurs rôles "
        "apparaît dans chacun d'eux ; sa présentation complète suit, plus bas."))]

    by_role = _section("par-role-dans-un-projet", "Par rôle dans un projet")
    for role, role_terms in roles.items():
        holders = [p for p in partners if role in p.data["roles"]]
        if not holders:
            continue
        section = _section(nodes.make_id(f"role-{role_terms['label']}"), role_terms["label"])
        section += nodes.paragraph(text=role_terms["description"][0].upper() + role_terms["description"][1:] + ".")
        rows = [[link(partner_name(p), f"#{partner_target(p.id)}", "reference internal"),
                 label("partner", "kind", p.data["kind"]), ", ".join(p.data["territories"])] for p in holders]
        html = _macros().table(["Organisation", "Type", "Territoires"], rows,
                               caption=f"{role_terms['label']} : organisations de l'annuaire")
        section += nodes.raw("", str(html), format="html")
        by_role += section
    out.append(by_role)

    everyone = _section("les-organisations", "Les organisations")
    for p in partners:
        data = p.data
        section = _section(partner_target(p.id), partner_name(p))
        for text in _paragraphs(data["brings"]):
            section += nodes.paragraph(text=text)
        facts = nodes.bullet_list()
        facts += _item("Type : ", label("partner", "kind", data["kind"]))
        facts += _item("Rôles : ", ", ".join(label("partner", "roles", r).lower() for r in data["roles"]))
        facts += _item("Territoires : ", ", ".join(data["territories"]))
        facts += _item("Site : ", (data["website"], data["website"]) if _is_url(data["website"]) else data["website"])
        linked = sources_of_partner(cat, p.id)
        if linked:
            parts: list = ["Sources du catalogue : "]
            for i, s in enumerate(linked):
                parts += ([", "] if i else []) + [(" ".join(s.data["title"].split()), links.fiche(s.id))]
            facts += _item(*parts)
        facts += _item(f"Fiche revue le {data['last_reviewed']}")
        section += facts
        everyone += section
    out.append(everyone)
    return out
