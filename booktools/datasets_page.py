"""The book's datasets page, generated from the data package at build time.

`datasets/index.md` holds the page's introduction and, where the list goes, the directive
```` ```{datasets-package} ```` (visible in the source). It renders the data package of the page's
folder (`datasets/datapackage.json`): a summary table, then one section per theme and one entry per
resource: description, producer, licence (with a warning when it is not verified), a
"synthétique" badge, vintage, granularity, territory filter, columns, sources, provenance, and a
download link. The `{download}` role makes Sphinx copy every file into the site (`_downloads/`),
so the links work on the published site and offline. Registered by `booktools/book.py`.
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from dataquartiers import data
from dataquartiers.indicators import format_fr

logger = logging.getLogger(__name__)
DIRECTIVE = "datasets-package"

#: Sections of the page, by the first folder of a resource's path.
SECTIONS = [
    ("qpv", "Quartiers prioritaires"),
    ("insee", "Population, revenus et allocataires"),
    ("heat", "Chaleur"),
    ("jobs", "Emploi"),
    ("health", "Santé"),
    ("synthetique", "Données synthétiques"),
    ("admin", "Référentiels administratifs"),
]
GRANULARITY_LABELS = {
    "qpv": "quartier prioritaire", "iris": "IRIS", "carreau_200m": "carreau de 200 m", "commune": "commune",
    "epci": "EPCI", "departement": "département", "region": "région", "point": "point (adresse)",
    "menage": "ménage (sans localisation)",
}
QPV_GEOGRAPHY_LABELS = {"2015": "QPV de 2015 (codes QP…), remplacés le 1er janvier 2024",
                        "2024": "QPV de 2024 (codes QN…), en vigueur depuis le 1er janvier 2024"}
TYPE_LABELS = {"string": "texte", "integer": "entier", "number": "nombre", "boolean": "oui / non",
               "year": "année", "date": "date"}
LEVEL_LABELS = {  # "territory= keeps the rows …"
    "commune": "dont la commune est dans le territoire",
    "iris": "des IRIS situés dans une commune du territoire",
    "departement": "du ou des départements où se trouve le territoire",
    "region": "de la ou des régions où se trouve le territoire",
    "epci": "des EPCI qui touchent le territoire",
}


def md(text) -> str:
    """Text safe inside a MyST paragraph or table cell (no HTML, math, role or column break)."""
    out = str(text).replace("\\", "\\\\")
    for ch in "<>|$*`[]":
        out = out.replace(ch, "\\" + ch)
    return " ".join(out.split())


def role_text(text) -> str:
    """Text inside a role's backticks, before `<target>`: no backtick or angle bracket."""
    return " ".join(str(text).replace("`", "'").replace("<", "(").replace(">", ")").split())


def _size(path: Path) -> str:
    size = path.stat().st_size
    if size >= 1_000_000:
        return format_fr(size / 1_000_000, 1, "Mo")
    return format_fr(max(1, round(size / 1000)), 0, "ko")


def _rows(path: Path) -> int:
    if path.suffix == ".geojson":
        return len(json.loads(path.read_text(encoding="utf-8"))["features"])
    with open(path, encoding="utf-8") as f:
        return sum(1 for _ in f) - 1


def _licences(res: dict) -> str:
    parts = []
    for li in res.get("licenses", []):
        title = md(li.get("title") or li["name"])
        parts.append(f"[{title}]({li['path']})" if li.get("path") else title)
    status = "vérifiée" if res.get("licence_status") == "verified" else "**non vérifiée**"
    return f"{' ; '.join(parts)} ({status})"


def _territory(res: dict) -> str:
    spec = res.get("territory")
    if not spec:
        return "non (pas de code de commune ni d'IRIS)"
    level = spec.get("level", "iris" if spec.get("derive") == "iris" else "commune")
    rows = ("dont l'une des communes est dans le territoire" if spec.get("separator") and level == "commune"
            else LEVEL_LABELS[level])
    return f"oui : `territory=` garde les lignes {rows} (colonne `{spec['field']}`)"


def _catalogue(res: dict) -> str:
    """Links to the catalogue's source pages, through the catalogue's own role: an unknown id
    is a build warning there, so a dangling link cannot land."""
    return ", ".join(f"{{catalogue}}`{cid}`" for cid in res.get("catalogue", []))


def _columns(res: dict) -> list[str]:
    fields = res.get("schema", {}).get("fields", [])
    lines = ["| Colonne | Type | Signification | Unité |", "|---|---|---|---|"]
    for f in fields:
        meaning = md(f.get("title", ""))
        if f.get("description") and f.get("description") != f.get("title"):
            meaning += f" — {md(f['description'])}"
        if f.get("dq:count_of"):
            meaning += " *(effectif : masqué de 1 à 10)*"
        lines.append(f"| `{f['name']}` | {TYPE_LABELS.get(f.get('type', 'string'), f.get('type'))} | {meaning} "
                     f"| {md(f.get('unit', ''))} |")
    return lines


def render_resource(res: dict, folder: Path) -> str:
    """One resource as MyST markdown (a level-3 heading, then its facts)."""
    path = folder / res["path"]
    name = res["name"]
    out = [f"(dataset-{name})=", f"### {md(res['title'])}", ""]
    if res.get("synthetic"):
        out += ["{bdg-warning}`synthétique` — données inventées par un générateur documenté, "
                "pas une mesure.", ""]
    out += [md(res["description"]), ""]
    if res.get("licence_status") != "verified":
        out += ["```{warning}",
                f"**Licence non vérifiée.** {md(res.get('licence_note', ''))} Ce fichier n'est pas présenté "
                "comme libre de réutilisation : vérifiez auprès du producteur avant de le rediffuser.",
                "```", ""]
    rows = [
        ("Dans un lab", f"`load(\"{name}\")`"),
        ("Producteur", md(res["producer"])),
        ("Licence", _licences(res)),
        ("Millésime", md(res["vintage"])),
        ("Granularité", GRANULARITY_LABELS.get(res["granularity"], md(res["granularity"]))),
        *([("Géographie prioritaire", QPV_GEOGRAPHY_LABELS.get(str(res["qpv_geography"]), md(res["qpv_geography"])))]
          if res.get("qpv_geography") else []),
        ("Filtre par territoire", _territory(res)),
        ("Fichier", f"{{download}}`{role_text(Path(res['path']).name)} <{res['path']}>` "
                    f"({format_fr(_rows(path), 0)} lignes, {_size(path)})"),
    ]
    sources = [f"[{md(s['title'])}]({s['path']})" if s.get("path") else md(s["title"]) for s in res.get("sources", [])]
    if sources:
        rows.append(("Sources", " ; ".join(sources)))
    rows.append(("Provenance", md(res["provenance"])))
    if res.get("catalogue"):
        rows.append(("Catalogue", _catalogue(res)))
    out += ["| Caractéristique | Valeur |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows] + [""]
    fields = res.get("schema", {}).get("fields", [])
    out += [f"````{{dropdown}} Les {len(fields)} colonnes"] + _columns(res) + ["````", ""]
    return "\n".join(out)


def render(folder: Path | None = None) -> str:
    """The generated part of the datasets page: a summary, then one section per theme."""
    folder = Path(folder) if folder else data.datasets_dir()
    problems = data.check_package(folder)
    if problems:
        raise data.DatasetMetadataError("; ".join(problems))
    pkg = data.package(folder)
    res_list = pkg["resources"]
    unverified = sum(1 for r in res_list if r.get("licence_status") != "verified")
    synthetic = sum(1 for r in res_list if r.get("synthetic"))
    out = [f"Le paquet compte {len(res_list)} jeux de données, dont {synthetic} synthétiques et {unverified} "
           "dont la licence reste à vérifier. Le descriptif complet, lisible par une machine, est le fichier "
           "{download}`datapackage.json <datapackage.json>` (format Frictionless).", ""]
    out += ["| Jeu de données | Nom dans le code | Granularité | Licence |", "|---|---|---|---|"]
    for r in res_list:
        flags = (" {bdg-warning}`synthétique`" if r.get("synthetic") else "")
        status = "vérifiée" if r.get("licence_status") == "verified" else "**à vérifier**"
        out.append(f"| {{ref}}`{role_text(r['title']).replace('|', '/')} <dataset-{r['name']}>`{flags} | `{r['name']}` "
                   f"| {GRANULARITY_LABELS.get(r['granularity'], r['granularity'])} | {status} |")
    out.append("")
    by_section: dict[str, list[dict]] = {}
    for r in res_list:
        by_section.setdefault(r["path"].split("/", 1)[0], []).append(r)
    known = [key for key, _ in SECTIONS]
    for key, title in SECTIONS + [(k, "Autres jeux de données") for k in by_section if k not in known]:
        if key not in by_section:
            continue
        out += [f"## {title}", ""]
        out += [render_resource(r, folder) for r in by_section[key]]
    return "\n".join(out)


class DatasetsPackageDirective(SphinxDirective):
    """```{datasets-package}```: the resources of the data package in the page's folder, as
    sections of the page (the headings it makes are the page's own: Sphinx lists them in the
    page's table of contents, and `{ref}` reaches every `dataset-<name>` label)."""

    def run(self) -> list[nodes.Node]:
        folder = Path(self.env.srcdir) / Path(self.env.docname).parent
        descriptor = folder / "datapackage.json"
        self.env.note_dependency(str(descriptor))
        try:
            markdown = render(folder)
        except data.DonneesError as err:  # a broken descriptor: a French warning, never a traceback
            logger.warning(f"{self.env.doc2path(self.env.docname, False)} : directive « {DIRECTIVE} » : {err}",
                           type="dataquartiers", subtype="datasets", location=(self.env.docname, self.lineno))
            return []
        container = nodes.container()
        nested_parse_with_titles(self.state, StringList(markdown.splitlines(), source=self.env.docname), container)
        return container.children


def setup_sphinx(app) -> None:
    app.add_directive(DIRECTIVE, DatasetsPackageDirective)
