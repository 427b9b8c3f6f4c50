"""Turn the catalogue into MyST Markdown: one page per source, the filterable table of sources,
the partner directory grouped by role, and the field reference of the staff guide.

Everything that comes from a YAML file is escaped before it reaches the page: in Markdown every
ASCII punctuation sign gets a backslash (so `<script>`, `*`, `{role}` or `|` show as typed), in
raw HTML blocks `html.escape` is used, and a URL is only made a link once it is a checked
http(s) address. Links between pages use MyST's `project:` scheme, so that a broken one is a
warning of the `-n` build instead of a dead link.
"""

from __future__ import annotations

import html
import os
import re
import string
import tempfile
from pathlib import Path

from .model import CATALOGUE_DIR, KINDS, Catalogue, Entry, _is_url, label, quality, schema, terms
from .scaffold import scaffold

#: Generated pages live here, under catalogue/ (git-ignored, rewritten by every build).
PAGES_DIR = "fiches"
_ESCAPED = {ord(c): "\\" + c for c in string.punctuation}

COLUMNS = ["Source", "Producteur", "Thèmes", "Maille la plus fine", "Licence", "Accès", "Qualité"]
#: The filters of the table: (select id, label, column index, several values per cell?)
FILTERS = [
    ("theme", "Thème", 2, True),
    ("maille", "Maille la plus fine", 3, False),
    ("producteur", "Producteur", 1, False),
    ("licence", "Licence", 4, False),
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


def doc_link(text: object, docname: str, root: Path | None = None) -> str:
    """A link to another page of the book: `docname` from the book root, without suffix.

    MyST's `project:` links name the source file, so the suffix is looked up under `root`
    (.md or .ipynb); a page that does not exist gives plain text rather than a broken link.
    """
    if root is not None:
        found = next((s for s in (".md", ".ipynb", ".rst") if (root / f"{docname}{s}").is_file()), None)
        if found is None:
            return md(text)
        docname += found
    elif not docname.endswith((".md", ".ipynb", ".rst")):
        docname += ".md"
    return f"[{md(text)}](<project:/{docname}>)"


def ref_link(text: object, target: str) -> str:
    return f"[{md(text)}](<project:#{target}>)"


def h(text: object) -> str:
    return html.escape(str(text), quote=True)


def fiche_docname(source_id: str) -> str:
    return f"{CATALOGUE_DIR}/{PAGES_DIR}/{source_id}"


def partner_target(partner_id: str) -> str:
    return f"partenaire-{partner_id}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell or " " for cell in row) + " |" for row in rows]
    return "\n".join(lines)


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

def source_page(cat: Catalogue, entry: Entry) -> str:
    data = entry.data
    licence_terms = terms("source", "licence").get(data["licence"], {})
    unverified = data["licence_status"] == "unverified"
    out = ["---", "orphan: true", "---", "", f"(catalogue-{entry.id})=", f"# {md(data['title'])}", "",
           md_paragraphs(data["description"]), ""]
    if unverified:
        out += ["```{warning}", f"**Licence à vérifier.** {md(data.get('licence_note', ''))}", "```", ""]

    licence_text = md_link(licence_terms.get("label", data["licence"]), licence_terms.get("url"))
    licence_text += " (vérifiée)" if not unverified else " (**à vérifier**)"
    if data.get("licence_note") and not unverified:
        licence_text += " : " + md(data["licence_note"])
    access = md(label("source", "access", data["access"]))
    if data.get("access_note"):
        access += " : " + md(data["access_note"])
    rows = [
        ["Producteur", md_link(_publisher(data), data["publisher"].get("url"))],
        ["Page de référence", md_link(data["landing_page"], data["landing_page"])],
        ["Licence", licence_text],
        ["Accès", access],
        ["Couverture géographique", md(data["spatial_coverage"])],
        ["Maille la plus fine", md(label("source", "granularity", data["granularity"]))],
        ["Géographie de référence", md(", ".join(data.get("geography_vintage") or [])) or "non précisée"],
        ["Période couverte", md(_period(data["temporal"]))],
        ["Mise à jour", md(label("source", "frequency", data["frequency"]))],
        ["Thèmes", md(", ".join(label("source", "themes", t) for t in data["themes"]))],
        ["Mots-clés", md(", ".join(data.get("keywords") or [])) or "aucun"],
        ["Données personnelles", md(label("source", "personal_data", data["personal_data"]))],
        ["Dernière revue de la fiche", md(data["last_reviewed"])],
    ]
    out += ["## Fiche", "", _table(["Information", "Valeur"], rows), ""]

    formats = terms("source", "distributions.format")
    dist_rows = []
    for dist in data["distributions"]:
        links = [md_link("page d'accès", dist["url"])]
        if dist.get("download_url"):
            links.append(md_link("téléchargement direct", dist["download_url"]))
        dist_rows.append([md(dist["title"]), md(formats.get(dist["format"], {}).get("label", dist["format"])),
                          " ; ".join(links)])
    out += ["## Obtenir les données", "", _table(["Ressource", "Format", "Liens"], dist_rows), ""]

    criteria = quality(data, cat.today)
    passed = sum(c.passed for c in criteria)
    out += [f"## Qualité des métadonnées : {passed} sur {len(criteria)}", "",
            "Un point par critère rempli, sur le modèle du score de qualité de data.gouv.fr "
            f"(calculé le {cat.today.isoformat()}).", "",
            _table(["Critère", "Rempli", "Détail"],
                   [[md(c.label), "oui" if c.passed else "**non**", md(c.detail)] for c in criteria]), ""]

    if data.get("limitations"):
        out += ["## Limites connues", "", md_paragraphs(data["limitations"]), ""]

    labs = [lab for lab in data.get("labs") or [] if lab in cat.labs]
    datasets = cat.datasets.get(entry.id, [])
    partners = partners_of_source(cat, entry.id)
    if labs or datasets or partners:
        out += ["## Dans le livre", ""]
        if labs:
            out.append("- Labs qui l'utilisent : " + ", ".join(doc_link(lab, f"labs/{lab}", cat.root) for lab in labs))
        if datasets:
            names = ", ".join(md(title or name) for name, title in datasets)
            out.append(f"- {doc_link('Jeux de données des labs', 'datasets/index', cat.root)} tirés de cette source : {names}")
        if partners:
            out.append("- Partenaires de l'annuaire liés : "
                       + ", ".join(ref_link(_partner_name(p), partner_target(p.id)) for p in partners))
        out.append("")

    out += ["## Source", "",
            f"{md_link(data['title'], data['landing_page'])}, {md(_publisher(data))}, "
            f"consultée le {md(data['last_reviewed'])}. Fiche tenue dans le fichier "
            f"`{entry.path}` du dépôt ({doc_link('comment la mettre à jour', f'{CATALOGUE_DIR}/guide')}).",
            "", doc_link("Retour au catalogue", f"{CATALOGUE_DIR}/index"), ""]
    return "\n".join(out)


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
        label("source", "licence", data["licence"]) + (" (à vérifier)" if data["licence_status"] == "unverified" else ""),
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

    table = ["```{list-table} Les sources du catalogue (une ligne par source ; le titre mène à sa fiche)",
             ":header-rows: 1", ":class: dq-catalogue", ""]
    table.append("* - " + "\n  - ".join(COLUMNS))
    for entry, row in zip(entries, cells):
        first = doc_link(row[0], fiche_docname(entry.id))
        table.append("* - " + "\n  - ".join([first] + [md(v) for v in row[1:]]))
    table += ["```", ""]
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
            out.append("- Sources du catalogue : "
                       + ", ".join(doc_link(s.data["title"], fiche_docname(s.id)) for s in linked))
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
    """Every generated file, by name inside catalogue/fiches/."""
    files = {f"{e.id}.md": source_page(cat, e) for e in cat.valid_sources()}
    # Fragments included by the committed pages: a suffix Sphinx does not read as a document.
    files["_sources.inc"] = sources_table(cat)
    files["_partenaires.inc"] = partners_directory(cat)
    files["_champs.inc"] = field_reference()
    # The blank entries the staff guide shows, to copy into the forge's web editor.
    files["modele-source.yml"] = scaffold("source", "nouvelle-source", cat.today)
    files["modele-partenaire.yml"] = scaffold("partner", "nouvelle-organisation", cat.today)
    return files


def _write_if_changed(path: Path, text: str) -> bool:
    """Write atomically, and only on change: Sphinx re-reads a page whose file time moved."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)
    return True


def write_pages(cat: Catalogue, folder: Path | None = None) -> list[Path]:
    """Write the generated pages under catalogue/fiches/ (or `folder`); remove stale ones."""
    folder = Path(folder) if folder else cat.root / CATALOGUE_DIR / PAGES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    files = render_all(cat)
    changed = [folder / name for name, text in files.items() if _write_if_changed(folder / name, text)]
    for stale in folder.iterdir():
        if stale.is_file() and stale.suffix in (".md", ".inc", ".yml") and stale.name not in files:
            stale.unlink()
    return changed
