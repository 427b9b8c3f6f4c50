"""Turn the catalogue into pages: one HTML page per source, the filterable table of sources,
the partner directory grouped by role, and the field reference of the staff guide.

The source pages are written straight in HTML and published by the Sphinx extension in the book's
theme (sphinx_ext.py): a Sphinx document per source would cost 50 ms or more each to read and
write, far too much for thousands of entries. The table, the directory and the field reference are
MyST fragments included by the committed pages catalogue/index.md, catalogue/partenaires.md and
catalogue/guide.md; the table is raw HTML, quick to parse at any size.

Everything that comes from a YAML file is escaped before it reaches a page: `html.escape` in HTML,
and in Markdown a backslash before every ASCII punctuation sign (so `<script>`, `*`, `{role}` or
`|` show as typed). A URL only becomes a link once it is a checked http(s) address.
"""

from __future__ import annotations

import html
import os
import posixpath
import re
import string
import tempfile
from pathlib import Path

from docutils import nodes

from .model import CATALOGUE_DIR, KINDS, Catalogue, Entry, _is_url, label, quality, schema, terms
from .scaffold import scaffold

#: Generated fragments live here, under catalogue/ (git-ignored, rewritten by every build); the
#: source pages are published at the same place in the site: catalogue/fiches/<id>.html.
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


# --- escaping ---------------------------------------------------------------------------------

def md(text: object) -> str:
    """Plain text made safe for one line of MyST Markdown: shown exactly as typed."""
    return " ".join(str(text).split()).translate(_ESCAPED)


def md_paragraphs(text: object) -> str:
    """Plain text with blank lines between paragraphs, made safe for MyST Markdown."""
    paragraphs = [p for p in str(text).replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "\n\n".join(md(p) for p in paragraphs)


def md_link(text: object, url: object) -> str:
    if not _is_url(url):
        return md(text)
    return f"[{md(text)}](<{url}>)"


def h(text: object) -> str:
    """Plain text made safe for HTML (one line)."""
    return html.escape(" ".join(str(text).split()), quote=True)


def h_paragraphs(text: object) -> str:
    paragraphs = [p for p in str(text).replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "\n".join(f"<p>{h(p)}</p>" for p in paragraphs)


def h_link(text: object, url: object, css: str = "reference external") -> str:
    if not url:
        return h(text)
    return f'<a class="{css}" href="{html.escape(str(url), quote=True)}">{h(text)}</a>'


def h_external(text: object, url: object) -> str:
    return h_link(text, url) if _is_url(url) else h(text)


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


def ref_link(text: object, target: str) -> str:
    """A Markdown link to a label of the book (checked by the `-n` build)."""
    return f"[{md(text)}](<project:#{target}>)"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _html_table(header: list[str], rows: list[list[str]], caption: str = "", css: str = "table") -> str:
    """A table of already-escaped cells, in the markup Sphinx gives its own tables."""
    head = "".join(f'<th class="head">{cell}</th>' for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    cap = f"<caption>{caption}</caption>" if caption else ""
    return (f'<div class="pst-scrollable-table-container"><table class="{css}">{cap}'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")


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


def _partner_name(entry: Entry) -> str:
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

def _section(anchor: str, title: str, content: str, level: int = 2) -> str:
    return (f'<section id="{anchor}"><h{level}>{title}<a class="headerlink" href="#{anchor}" '
            f'title="Lien vers cette rubrique">#</a></h{level}>{content}</section>')


def source_page(cat: Catalogue, entry: Entry, links: Links | None = None,
                edit_base: str | None = None) -> tuple[str, str, str]:
    """One source page: (title, body, toc) in HTML, every YAML text escaped.

    `edit_base` is the forge's address for editing a file of the repository (".../edit/main/"): the
    page then links to the web editor of its YAML file.
    """
    links = links or Links(cat.root, fiche_docname(entry.id))
    data = entry.data
    licence_terms = terms("source", "licence").get(data["licence"], {})
    unverified = data["licence_status"] == "unverified"

    licence = h_external(licence_terms.get("label", data["licence"]), licence_terms.get("url"))
    licence += " (vérifiée)" if not unverified else " (<strong>à vérifier</strong>)"
    if data.get("licence_note") and not unverified:
        licence += " : " + h(data["licence_note"])
    access = h(label("source", "access", data["access"]))
    if data.get("access_note"):
        access += " : " + h(data["access_note"])
    rows = [
        ["Producteur", h_external(_publisher(data), data["publisher"].get("url"))],
        ["Page de référence", h_external(data["landing_page"], data["landing_page"])],
        ["Licence", licence],
        ["Accès", access],
        ["Couverture géographique", h(data["spatial_coverage"])],
        ["Maille la plus fine", h(label("source", "granularity", data["granularity"]))],
        ["Géographie de référence", h(", ".join(data.get("geography_vintage") or [])) or "non précisée"],
        ["Période couverte", h(_period(data["temporal"]))],
        ["Mise à jour", h(label("source", "frequency", data["frequency"]))],
        ["Thèmes", h(", ".join(label("source", "themes", t) for t in data["themes"]))],
        ["Mots-clés", h(", ".join(data.get("keywords") or [])) or "aucun"],
        ["Données personnelles", h(label("source", "personal_data", data["personal_data"]))],
        ["Dernière revue de la fiche", h(data["last_reviewed"])],
    ]
    sections = [("fiche", "Fiche", _html_table(["Information", "Valeur"], rows))]

    formats = terms("source", "distributions.format")
    dist_rows = []
    for dist in data["distributions"]:
        found = [h_external("page d'accès", dist["url"])]
        if dist.get("download_url"):
            found.append(h_external("téléchargement direct", dist["download_url"]))
        dist_rows.append([h(dist["title"]), h(formats.get(dist["format"], {}).get("label", dist["format"])),
                          " ; ".join(found)])
    sections.append(("obtenir-les-donnees", "Obtenir les données",
                     _html_table(["Ressource", "Format", "Liens"], dist_rows)))

    criteria = quality(data, cat.today)
    passed = sum(c.passed for c in criteria)
    sections.append(("qualite", f"Qualité des métadonnées : {passed} sur {len(criteria)}",
                     "<p>Un point par critère rempli, sur le modèle du score de qualité de data.gouv.fr "
                     f"(calculé le {cat.today.isoformat()}).</p>"
                     + _html_table(["Critère", "Rempli", "Détail"],
                                   [[h(c.label), "oui" if c.passed else "<strong>non</strong>", h(c.detail)]
                                    for c in criteria])))

    if data.get("limitations"):
        sections.append(("limites", "Limites connues", h_paragraphs(data["limitations"])))

    items = []
    labs = [(lab, links.doc(f"labs/{lab}")) for lab in data.get("labs") or [] if lab in cat.labs]
    if labs:
        items.append("Labs qui l'utilisent : " + ", ".join(h_link(lab, url, "reference internal") for lab, url in labs))
    datasets = cat.datasets.get(entry.id, [])
    if datasets:
        # The datasets page labels each resource `dataset-<name>` (booktools/datasets_page.py).
        page = links.doc("datasets/index")
        names = ", ".join(h_link(title or name, page and f"{page}#{nodes.make_id('dataset-' + name)}",
                                 "reference internal") for name, title in datasets)
        items.append(f"{h_link('Jeux de données des labs', page, 'reference internal')} "
                     f"tirés de cette source : {names}")
    partners = partners_of_source(cat, entry.id)
    if partners:
        items.append("Partenaires de l'annuaire liés : " + ", ".join(
            h_link(_partner_name(p), links.partner(p.id), "reference internal") for p in partners))
    if items:
        sections.append(("dans-le-livre", "Dans le livre", "<ul>" + "".join(f"<li><p>{i}</p></li>" for i in items)
                         + "</ul>"))

    guide = links.doc(f"{CATALOGUE_DIR}/guide")
    index = links.doc(f"{CATALOGUE_DIR}/index")
    edit = f" : {h_link('la modifier dans l’éditeur de la forge', edit_base + entry.path)}" if edit_base else ""
    sections.append(("source", "Source",
                     f"<p>{h_external(data['title'], data['landing_page'])}, {h(_publisher(data))}, consultée le "
                     f"{h(data['last_reviewed'])}.</p><p>Cette fiche est tenue dans le fichier "
                     f"<code>{h(entry.path)}</code> du dépôt{edit} "
                     f"({h_link('comment la mettre à jour', guide, 'reference internal')}).</p>"
                     f"<p>{h_link('Retour au catalogue', index, 'reference internal')}</p>"))

    warning = ""
    if unverified:
        warning = ('<div class="admonition warning"><p class="admonition-title">Avertissement</p>'
                   f"<p><strong>Licence à vérifier.</strong> {h(data.get('licence_note', ''))}</p></div>")
    body = _section(entry.id, h(data["title"]), h_paragraphs(data["description"]) + warning
                    + "".join(_section(anchor, title, content) for anchor, title, content in sections), level=1)
    toc = (f'<ul><li><a class="reference internal" href="#">{h(data["title"])}</a><ul>'
           + "".join(f'<li><a class="reference internal" href="#{anchor}">{title}</a></li>'
                     for anchor, title, _ in sections) + "</ul></li></ul>")
    return h(data["title"]), body, toc


# --- the table of sources, with its filters ---------------------------------------------------

_FILTER_STYLE = (
    "<style>"
    ".dq-filtres fieldset{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:flex-end;"
    "border:1px solid var(--pst-color-border,#ccc);border-radius:.25rem;padding:.75rem 1rem}"
    ".dq-filtres legend{font-size:1rem;font-weight:600;padding:0 .25rem;width:auto;float:none}"
    ".dq-filtre{display:flex;flex-direction:column}.dq-filtre select{max-width:18rem}"
    "</style>")

_FILTER_SCRIPT = """
<script>
/* Filtres du catalogue : sans serveur, sans bibliothèque. Chaque liste filtre une colonne ; une
   ligne reste visible si elle satisfait tous les filtres choisis. */
(function () {
  var form = document.getElementById("dq-filtres");
  var table = document.querySelector("table.dq-catalogue");
  if (!form || !table || !table.tBodies.length) { return; }
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var selects = Array.prototype.slice.call(form.querySelectorAll("select"));
  var bilan = document.getElementById("dq-filtres-bilan");
  function valeurs(cell, plusieurs) {
    var text = cell.textContent.replace(/\\s+/g, " ").trim();
    return plusieurs ? text.split(", ") : [text];
  }
  function appliquer() {
    var visibles = 0;
    rows.forEach(function (row) {
      var garde = selects.every(function (select) {
        if (!select.value) { return true; }
        var cell = row.cells[Number(select.getAttribute("data-colonne"))];
        return valeurs(cell, select.getAttribute("data-plusieurs") === "oui").indexOf(select.value) !== -1;
      });
      row.hidden = !garde;
      row.style.display = garde ? "" : "none";
      if (garde) { visibles += 1; }
    });
    bilan.textContent = visibles + (visibles > 1 ? " sources affichées" : " source affichée") +
      " sur " + rows.length + ".";
  }
  selects.forEach(function (select) { select.addEventListener("change", appliquer); });
  form.addEventListener("reset", function () { window.setTimeout(appliquer, 0); });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.hidden = false;
  appliquer();
})();
</script>
"""


def _cell_values(cat: Catalogue, entry: Entry) -> list[str]:
    data = entry.data
    criteria = quality(data, cat.today)
    passed = sum(c.passed for c in criteria)
    return [
        data["title"],
        short_publisher(data),
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


def sources_table(cat: Catalogue) -> str:
    entries = sorted(cat.valid_sources(), key=lambda e: e.data["title"].casefold())
    cells = [_cell_values(cat, e) for e in entries]
    form = ['```{raw} html',
            _FILTER_STYLE,
            '<form class="dq-filtres" id="dq-filtres" hidden>',
            '<fieldset><legend>Filtrer les sources</legend>']
    for key, text, column, several in FILTERS:
        values = [v for row in cells for v in (row[column].split(", ") if several else [row[column]])]
        order = None
        if key == "maille":
            order = [t["label"] for t in terms("source", "granularity").values()]
        elif key == "acces":
            order = [t["label"] for t in terms("source", "access").values()]
        options = "".join(f'<option value="{h(v)}">{h(v)} ({n})</option>' for v, n in _options(values, order))
        form.append(f'<div class="dq-filtre"><label for="dq-filtre-{key}">{h(text)}</label> '
                    f'<select id="dq-filtre-{key}" data-colonne="{column}" '
                    f'data-plusieurs="{"oui" if several else "non"}">'
                    f'<option value="">tous</option>{options}</select></div>')
    form += ['<button type="reset">Tout afficher</button>', '</fieldset>',
             '<p id="dq-filtres-bilan" role="status" aria-live="polite"></p>', '</form>', '```', '']

    # The table is raw HTML: a Markdown table of thousands of rows is slow to parse, and the links
    # go to pages that are not Sphinx documents (see the module docstring).
    links = Links(cat.root, f"{CATALOGUE_DIR}/index")
    rows = [[h_link(row[0], links.fiche(entry.id), "reference internal")] + [h(v) for v in row[1:]]
            for entry, row in zip(entries, cells)]
    table = ["```{raw} html",
             _html_table([h(c) for c in COLUMNS], rows,
                         caption="Les sources du catalogue (une ligne par source ; le titre mène à sa fiche)",
                         css="table dq-catalogue"),
             "```", ""]
    intro = [f"Le catalogue compte {len(entries)} sources. Les listes ci-dessous filtrent le tableau "
             "(elles apparaissent quand JavaScript est actif ; sinon, le tableau reste complet).", ""]
    return "\n".join(intro + form + table + ["```{raw} html", _FILTER_SCRIPT.strip(), "```", ""])


# --- the partner directory --------------------------------------------------------------------

def partners_directory(cat: Catalogue) -> str:
    partners = sorted(cat.valid_partners(), key=lambda e: e.data["name"].casefold())
    roles = terms("partner", "roles")
    out = [f"L'annuaire compte {len(partners)} organisations. Une organisation qui tient plusieurs "
           "rôles apparaît dans chacun d'eux ; sa présentation complète suit, plus bas.", "",
           "## Par rôle dans un projet", ""]
    for role, role_terms in roles.items():
        holders = [p for p in partners if role in p.data["roles"]]
        if not holders:
            continue
        out += [f"### {md(role_terms['label'])}", "", md(role_terms["description"][0].upper()
                                                         + role_terms["description"][1:] + "."), ""]
        rows = [[ref_link(_partner_name(p), partner_target(p.id)), md(label("partner", "kind", p.data["kind"])),
                 md(", ".join(p.data["territories"]))] for p in holders]
        out += [_table(["Organisation", "Type", "Territoires"], rows), ""]
    out += ["## Les organisations", ""]
    for p in partners:
        data = p.data
        out += [f"({partner_target(p.id)})=", f"### {md(_partner_name(p))}", "", md_paragraphs(data["brings"]), "",
                f"- Type : {md(label('partner', 'kind', data['kind']))}",
                "- Rôles : " + md(", ".join(label("partner", "roles", r).lower() for r in data["roles"])),
                f"- Territoires : {md(', '.join(data['territories']))}",
                f"- Site : {md_link(data['website'], data['website'])}"]
        linked = sources_of_partner(cat, p.id)
        if linked:
            links = Links(cat.root, DIRECTORY_PAGE)
            out.append("- Sources du catalogue : " + ", ".join(
                f'<a class="reference internal" href="{links.fiche(s.id)}">{md(s.data["title"])}</a>' for s in linked))
        out += [f"- Fiche revue le {md(data['last_reviewed'])}", ""]
    return "\n".join(out)


# --- the field reference of the staff guide ---------------------------------------------------

def _fields(kind: str, node: dict, prefix: str = "", required: bool = True):
    for name, sub in node["properties"].items():
        dotted = f"{prefix}{name}"
        is_required = required and name in node.get("required", [])
        yield dotted, sub, is_required
        target = sub["items"] if sub.get("type") == "array" and "properties" in sub.get("items", {}) else sub
        if "properties" in target:
            child_prefix = f"{dotted}[]." if sub.get("type") == "array" else f"{dotted}."
            yield from _fields(kind, target, child_prefix, is_required)


def field_reference() -> str:
    out = []
    for kind, heading in (("source", "Les champs d'une source"), ("partner", "Les champs d'un partenaire")):
        folder = KINDS[kind][0]
        out += [f"### {heading}", "",
                f"Un fichier `{CATALOGUE_DIR}/{folder}/<id>.yml` par entrée. Les champs marqués « oui » "
                "sont obligatoires ; un champ facultatif peut être laissé vide ou retiré.", ""]
        rows = []
        vocabularies = []
        for dotted, sub, is_required in _fields(kind, schema(kind)):
            node = sub["items"] if sub.get("type") == "array" and "enum" in sub.get("items", {}) else sub
            if "x-terms" in node:
                vocabularies.append((dotted, sub.get("title", dotted), node))
            rows.append([f"`{dotted}`", md(sub.get("title", "")), "oui" if is_required else "non",
                         md(sub.get("description", ""))])
        out += [_table(["Champ", "Nom", "Obligatoire", "Ce qu'il faut y écrire"], rows), ""]
        for dotted, title, node in vocabularies:
            out += [f"#### Valeurs possibles de `{dotted}` ({md(title.lower())})", ""]
            rows = [[f"`{value}`", md(node["x-terms"][value]["label"])
                     + (" : " + md(node["x-terms"][value]["description"]) if "description" in node["x-terms"][value] else "")]
                    for value in node["enum"]]
            out += [_table(["À écrire", "Signification"], rows), ""]
    return "\n".join(out)


# --- writing ----------------------------------------------------------------------------------

def render_all(cat: Catalogue) -> dict[str, str]:
    """The generated fragments of the committed pages, by file name inside catalogue/fiches/."""
    return {
        # Fragments included by the committed pages: a suffix Sphinx does not read as a document.
        "_sources.inc": sources_table(cat),
        "_partenaires.inc": partners_directory(cat),
        "_champs.inc": field_reference(),
        # The blank entries the staff guide shows, to copy into the forge's web editor.
        "modele-source.yml": scaffold("source", "nouvelle-source", cat.today),
        "modele-partenaire.yml": scaffold("partner", "nouvelle-organisation", cat.today),
    }


def render_fiches(cat: Catalogue, docs: set[str] | None = None,
                  edit_base: str | None = None) -> dict[str, tuple[str, str, str]]:
    """Every source page: pagename -> (title, body, toc), in HTML."""
    return {fiche_docname(e.id): source_page(cat, e, Links(cat.root, fiche_docname(e.id), docs), edit_base)
            for e in cat.valid_sources()}


def _write_if_changed(path: Path, text: str) -> bool:
    """Write atomically, and only on change: Sphinx re-reads a page whose included file moved."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
    return True


def write_pages(cat: Catalogue, folder: Path | None = None) -> list[Path]:
    """Write the fragments under catalogue/fiches/ (or `folder`); remove anything stale there.

    Older versions of the book wrote one Markdown document per source in this folder: removing
    them keeps Sphinx from reading them as documents.
    """
    folder = Path(folder) if folder else cat.root / CATALOGUE_DIR / PAGES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    files = render_all(cat)
    changed = [folder / name for name, text in files.items() if _write_if_changed(folder / name, text)]
    for stale in folder.iterdir():
        if stale.is_file() and stale.suffix in (".md", ".inc", ".yml") and stale.name not in files:
            stale.unlink()
    return changed
