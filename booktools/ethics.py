"""Every lab bound to the ethics charter: the assessments, their check, the charter's pages.

Each lab `labs/<stem>.ipynb` carries its assessment beside it, `labs/<stem>.ethics.yml`: a score
and a justification per principle of the charter (`dataquartiers.charter`), the risks and how the
lab handles them, the datasets it reads.

Used by the build (`setup_sphinx`, registered by `booktools.book`: checks, the charter pages
generated from the YAML, the assessment appended to every lab page, the overview page), by the
command line (`python -m booktools.ethics check`, run by `make test`) and by the tests.

What the checks enforce (each message names the file, and the principle or dataset at fault):
every `labs/*.ipynb` has an assessment; every principle of the charter is scored with an integer
0–4 and a non-empty justification; every dataset the lab reads — found statically, from the
`load("<name>")` calls of `dataquartiers.data` in its code cells — is declared, exists in
`datasets/datapackage.json` and has a licence there; a dataset marked `synthetic: true` or
`personal_data: true` in the data package is acknowledged in the assessment
(`synthetic_notice`, `personal_data_notice`). Licence and status are never retyped in an
assessment: they are read from the data package (a resource without `personal_data` is taken
as not personal: the package only ships aggregates under statistical secrecy).
"""

from __future__ import annotations

import datetime as _dt
import html
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from dataquartiers.charter import (_NNBSP, CHARTER_FILE, MAX_SCORE, Charter, EthicsError, _cell, _display,
                                   _json_type, _schema,
                                   _mean, _one_line, _read_yaml, _table, _validate, fmt_number, french_date,
                                   load_charter, overall_average, theme_averages)
from dataquartiers import data

from . import REPO_DIR, TOOLS_DIR, notebooks

ASSESSMENT_SCHEMA = TOOLS_DIR / "schemas" / "ethics-assessment.schema.json"
LABS_DIR = "labs"
ASSESSMENT_SUFFIX = ".ethics.yml"
DATAPACKAGE_FILE = "datasets/datapackage.json"

#: Docnames of the generated pages (see `setup_sphinx`).
CHARTER_DOC = "ethics-charter/index"
OVERVIEW_DOC = "ethics-charter/evaluations"
THEME_DOC = "ethics-charter/themes/{id}"
#: A line `<!-- dq-ethics: NAME [ARG] -->` in a page of ethics-charter/ is replaced, at build
#: time, by what NAME generates. An HTML comment: a page read without the extension shows nothing.
MARKER = re.compile(r"^<!--\s*dq-ethics:\s*([a-z-]+)(?:\s+([a-z0-9-]+))?\s*-->[ \t]*$", re.M)

STATUS_LABELS = {"handled": "traité", "partial": "en partie traité", "open": "ouvert"}


# --- an assessment -------------------------------------------------------------------------

@dataclass
class LabAssessment:
    """One lab's checked assessment, with what the data package says of its datasets."""

    stem: str
    title: str
    path: Path
    notebook: Path
    data: dict
    resources: dict[str, dict] = field(default_factory=dict)

    @property
    def docname(self) -> str:
        return f"{LABS_DIR}/{self.stem}"

    @property
    def label(self) -> str:
        """The cross-reference label of the assessment section on the lab page."""
        return f"ethics-assessment-{self.stem}"

    @property
    def short_title(self) -> str:
        return notebooks.short_title(self.title)

    def score(self, principle_id: str) -> int:
        return self.data["principles"][principle_id]["score"]

    def scores(self) -> dict[str, int]:
        return {pid: entry["score"] for pid, entry in self.data["principles"].items()}


def assessment_schema(charter: Charter) -> dict:
    """The assessment schema, completed with the principles of the charter."""
    schema = _schema(ASSESSMENT_SCHEMA)
    ids = charter.principle_ids
    schema["properties"]["principles"]["required"] = ids
    schema["properties"]["principles"]["propertyNames"] = {"enum": ids}
    schema["$defs"]["principleId"] = {"enum": ids}
    return schema


def assessment_path(notebook: Path) -> Path:
    notebook = Path(notebook)
    return notebook.with_name(notebook.stem + ASSESSMENT_SUFFIX)


def check_assessment(path: Path, notebook: Path, charter: Charter, resources: Mapping[str, dict],
                     root: Path | None = None) -> tuple[LabAssessment | None, list[str]]:
    """Check one lab's assessment against the charter, its notebook and the data package
    (`resources`: its resources by name). What the lab reads: `booktools.notebooks`."""
    shown, nb_shown = _display(path, root), _display(notebook, root)
    try:
        data = _read_yaml(path, shown)
    except EthicsError as err:
        return None, [str(err)]
    if not isinstance(data, dict):
        return None, [f"{shown}: expected a mapping (summary, assessed, datasets, principles, risks), "
                      f"got {_json_type(data)}"]
    errors = _validate(data, assessment_schema(charter), shown)
    try:
        needs = notebooks.datasets_read(notebooks.read(notebook), {"resources": list(resources.values())}, nb_shown)
    except notebooks.NotebookError as err:
        return None, errors + [str(err)]
    read = needs.reads
    errors += needs.problems
    declared = {}
    for entry in data.get("datasets") or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            if entry["name"] in declared:
                errors.append(f"{shown}: dataset '{entry['name']}': declared twice under 'datasets'")
            declared[entry["name"]] = entry
    for name, where in read.items():
        if name not in declared:
            errors.append(f"{shown}: dataset '{name}' is read by {nb_shown} ({where}) but not "
                          "declared under 'datasets'")
    found_resources = {}
    for name, entry in declared.items():
        if name not in read:
            errors.append(f"{shown}: dataset '{name}' is declared under 'datasets' but {nb_shown} "
                          "never reads it (no load() call nor package function that reads it)")
        res = resources.get(name)
        if res is None:
            errors.append(f"{shown}: dataset '{name}': not in {DATAPACKAGE_FILE} (its datasets are: "
                          f"{', '.join(sorted(resources))})")
            continue
        found_resources[name] = res
        if not [lic for lic in res.get("licenses") or [] if lic.get("name") or lic.get("title")]:
            errors.append(f"{shown}: dataset '{name}': has no licence in {DATAPACKAGE_FILE} "
                          "(field 'licenses' of the resource)")
        for flag, notice, what in (("synthetic", "synthetic_notice", "synthetic"),
                                   ("personal_data", "personal_data_notice", "personal data")):
            marked, said = bool(res.get(flag)), bool(str(entry.get(notice) or "").strip())
            if marked and not said:
                hint = ("what synthetic data can and cannot show" if flag == "synthetic"
                        else "legal basis, minimisation and protection")
                errors.append(f"{shown}: dataset '{name}' is marked {what} in {DATAPACKAGE_FILE}: "
                              f"say so with a '{notice}' ({hint})")
            elif said and not marked:
                errors.append(f"{shown}: dataset '{name}': '{notice}' is given but {DATAPACKAGE_FILE} "
                              f"does not mark it {what}")
    if errors:
        return None, errors
    return LabAssessment(stem=Path(notebook).stem, title=notebooks.title(notebooks.read(notebook), Path(notebook).stem),
                         path=Path(path),
                         notebook=Path(notebook), data=data, resources=found_resources), []


@dataclass
class Report:
    """Everything the build and the command line need: the charter, the valid assessments, errors."""

    root: Path
    charter: Charter | None
    assessments: list[LabAssessment]
    errors: list[str]
    labs: list[Path] = field(default_factory=list)


def _package_resources(root: Path, datasets_folder: Path | None) -> tuple[dict[str, dict], list[str]]:
    folder = Path(datasets_folder) if datasets_folder else Path(root) / "datasets"
    path = folder / "datapackage.json"
    shown = _display(path, root)
    try:
        package = data.package(folder)
        return {r["name"]: r for r in package["resources"]}, []
    except FileNotFoundError:
        return {}, [f"{shown}: not found (the ethics check reads the datasets' licences there)"]
    except (data.DatasetFileError, KeyError, TypeError) as err:
        return {}, [f"{shown}: cannot be read as a data package ({err})"]


def check_repository(root: Path | str = REPO_DIR, *, charter_path: Path | None = None,
                     datasets_folder: Path | None = None) -> Report:
    """Check the charter and the assessment of every `labs/*.ipynb` under `root`."""
    root = Path(root)
    charter_path = Path(charter_path) if charter_path else root / CHARTER_FILE
    labs = notebooks.lab_notebooks(root)
    try:
        charter = load_charter(charter_path)
    except (EthicsError, FileNotFoundError) as err:
        return Report(root, None, [], str(err).splitlines(), labs)
    resources, errors = _package_resources(root, datasets_folder)
    assessments = []
    for notebook in labs:
        path = assessment_path(notebook)
        if not path.exists():
            errors.append(f"{_display(notebook, root)}: no ethics assessment: create "
                          f"{_display(path, root)} (python -m booktools.ethics new "
                          f"{_display(notebook, root)})")
            continue
        assessment, problems = check_assessment(path, notebook, charter, resources, root)
        errors += problems
        if assessment:
            assessments.append(assessment)
    for path in sorted((root / LABS_DIR).glob("*" + ASSESSMENT_SUFFIX)):
        notebook = path.with_name(path.name[: -len(ASSESSMENT_SUFFIX)] + ".ipynb")
        if not notebook.exists():
            errors.append(f"{_display(path, root)}: no lab {_display(notebook, root)} beside it")
    return Report(root, charter, assessments, errors, labs)


def principle_averages(charter: Charter, assessments: list[LabAssessment]) -> dict[str, float | None]:
    """The mean over the labs of each principle's score."""
    return {pid: _mean(a.score(pid) for a in assessments) for pid in charter.principle_ids}

# --- pages (MyST markdown, generated at build time) --------------------------------------------

def theme_doc(theme_id: str) -> str:
    return THEME_DOC.format(id=theme_id)


def _doc_link(text: str, docname: str) -> str:
    return f"{{doc}}`{text} </{docname}>`"


def _ref(text: str, label: str) -> str:
    return f"{{ref}}`{text} <{label}>`"


def principle_label(principle_id: str) -> str:
    return f"ethics-{principle_id}"


def render_label(charter: Charter) -> str:
    lab = charter.label
    return (f"```{{admonition}} Un programme labellisé\n:class: tip\n{_one_line(lab['fact'])}\n\n"
            f"{_one_line(lab['about'])} Voir [le site d'{lab['awarded_by']}]({lab['url']}).\n```\n")


def render_principles_summary(charter: Charter) -> str:
    """The themes and principles in short, as the charter page shows them."""
    out = []
    for t in charter.themes:
        out.append(f"### {t.title}\n\n{_one_line(t.intro)}\n")
        for p in t.principles:
            out.append(f"- **{p.title}** — {_one_line(p.definition)}")
        out.append(f"\nLes questions à se poser et les scores des labs : {_doc_link(t.title, theme_doc(t.id))}.\n")
    return "\n".join(out)


def render_scale(charter: Charter) -> str:
    rows = [[f"**{lv.level}**", lv.label, _cell(lv.meaning)] for lv in charter.scale]
    return "(ethics-scale)=\n" + _table(["Score", "Niveau", "Ce que cela veut dire"], rows) + "\n"


def render_frameworks(charter: Charter) -> str:
    return "\n".join(f"- [{f['name']}]({f['url']}), {f['publisher']} : {_one_line(f['contribution'])}"
                     for f in charter.frameworks) + "\n"


def render_sources(charter: Charter) -> str:
    items = [f"- {charter.label['awarded_by']}, site officiel : <{charter.label['url']}>"]
    items += [f"- {f['publisher']}, *{f['name']}* : <{f['url']}>" for f in charter.frameworks]
    if charter.reference:
        items.append(f"- {_one_line(charter.reference['source'])}")
    return "\n".join(items) + "\n"


def render_theme_page(charter: Charter, theme_id: str, assessments: list[LabAssessment]) -> str:
    """The whole page of one theme: its principles, their questions, how the labs score them."""
    t = charter.theme(theme_id)
    out = [f"(ethics-theme-{t.id})=", f"# {t.title}", "",
           f"{_one_line(t.intro)}", "",
           f"Ce thème de la {_doc_link('charte éthique', CHARTER_DOC)} compte {len(t.principles)} "
           f"principe{'s' if len(t.principles) > 1 else ''}. Chaque principe est noté de 0 à 4 "
           f"selon {_ref('l’échelle commune', 'ethics-scale')}.", ""]
    for p in t.principles:
        out += [f"({principle_label(p.id)})=", f"## {p.title}", "", _one_line(p.definition), "",
                "**Les questions à se poser pour un projet de quartier :**", ""]
        out += [f"- {_one_line(q)}" for q in p.questions]
        out.append("")
        if assessments:
            rows = [[_ref(a.short_title, a.label), f"{a.score(p.id)} / 4",
                     _cell(a.data["principles"][p.id]["justification"])] for a in assessments]
            out += ["**Dans les labs du livre :**", "",
                    _table(["Lab", "Score", "Justification"], rows), ""]
    out += ["## Sources", "", render_sources(charter)]
    return "\n".join(out)


def _bar_chart_svg(charter: Charter, lab_means: dict[str, float | None], n_labs: int) -> str:
    """Grouped horizontal bars (labs, programme reference) per theme, with <title> and <desc>."""
    ref = (charter.reference or {}).get("theme_averages", {})
    left, width, row, top = 16, 420, 66, 52
    height = top + row * len(charter.themes) + 26
    unit = width / MAX_SCORE
    desc_parts = []
    body = [f'<text x="{left}" y="18" class="dq-legend"><tspan fill="#1f3a93">■</tspan> '
            f'moyenne des labs du livre ({n_labs} lab{"s" if n_labs > 1 else ""})'
            + ('  <tspan fill="#8c8c8c">■</tspan> programme 2019-2022 (repère)' if ref else "")
            + "</text>"]
    for i in range(MAX_SCORE + 1):  # the grid: 0 to 4
        x = left + i * unit
        body.append(f'<line x1="{x:.1f}" y1="{top - 14}" x2="{x:.1f}" y2="{height - 22}" stroke="#d0d0d0"/>')
        body.append(f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" class="dq-axis">{i}</text>')
    for k, t in enumerate(charter.themes):
        y = top + k * row
        mean, rmean = lab_means.get(t.id), ref.get(t.id)
        body.append(f'<text x="{left}" y="{y}" class="dq-theme">{html.escape(t.title, quote=False)}</text>')
        if mean is not None:
            body.append(f'<rect x="{left}" y="{y + 6}" width="{mean * unit:.1f}" height="16" fill="#1f3a93"/>')
            body.append(f'<text x="{left + mean * unit + 6:.1f}" y="{y + 19}" class="dq-value">{fmt_number(mean)}</text>')
        if rmean is not None:
            body.append(f'<rect x="{left}" y="{y + 26}" width="{rmean * unit:.1f}" height="10" fill="#8c8c8c"/>')
            body.append(f'<text x="{left + rmean * unit + 6:.1f}" y="{y + 35}" class="dq-value dq-ref">{fmt_number(rmean)}</text>')
        part = f"{t.title} : {fmt_number(mean)} sur 4"
        if rmean is not None:
            part += f" (programme 2019-2022 : {fmt_number(rmean)})"
        desc_parts.append(part)
    desc = ("Score moyen des labs par thème de la charte, sur 4. " + " ; ".join(desc_parts) + ".")
    return (f'<svg class="dq-ethics-chart" viewBox="0 0 {left + width + 60} {height}" role="img" '
            f'aria-labelledby="dq-ethics-chart-title dq-ethics-chart-desc" xmlns="http://www.w3.org/2000/svg">\n'
            f'<title id="dq-ethics-chart-title">Scores moyens par thème de la charte éthique</title>\n'
            f'<desc id="dq-ethics-chart-desc">{html.escape(desc, quote=False)}</desc>\n'
            '<style>.dq-theme{font:600 13px sans-serif;fill:#1a1a1a}.dq-value{font:12px sans-serif;fill:#1a1a1a}'
            '.dq-ref{fill:#555}.dq-axis{font:11px sans-serif;fill:#555}.dq-legend{font:12px sans-serif;fill:#1a1a1a}</style>\n'
            + "\n".join(body) + "\n</svg>")


def render_theme_chart(charter: Charter, assessments: list[LabAssessment]) -> str:
    """The chart of theme averages and, as its text alternative, the same figures in a table."""
    if not assessments:
        return "Aucun lab n'est encore évalué.\n"
    means = theme_averages(charter, principle_averages(charter, assessments))
    ref = (charter.reference or {}).get("theme_averages", {})
    chart = _bar_chart_svg(charter, means, len(assessments))
    figure = ("```{raw} html\n<figure class=\"dq-ethics-figure\">\n" + chart + "\n<figcaption>"
              "Scores moyens par thème, sur 4 ; les mêmes valeurs sont dans le tableau ci-dessous."
              "</figcaption>\n</figure>\n```\n")
    headers = ["Thème"] + [_ref(a.short_title, a.label) for a in assessments] + ["Moyenne des labs"]
    if ref:
        headers.append("Programme 2019-2022")
    rows = []
    for t in charter.themes:
        row = [_doc_link(t.title, theme_doc(t.id))]
        row += [fmt_number(theme_averages(charter, a.scores())[t.id]) for a in assessments]
        row.append(f"**{fmt_number(means[t.id])}**")
        if ref:
            row.append(fmt_number(ref.get(t.id)))
        rows.append(row)
    return figure + "\n" + _table(headers, rows) + "\n"


def render_principle_table(charter: Charter, assessments: list[LabAssessment]) -> str:
    """Labs × principles: every score, the mean per principle and the programme's reference."""
    if not assessments:
        return "Aucun lab n'est encore évalué.\n"
    ref = (charter.reference or {}).get("principle_scores", {})
    means = principle_averages(charter, assessments)
    headers = ["Thème", "Principe"] + [_ref(a.short_title, a.label) for a in assessments] + ["Moyenne"]
    if ref:
        headers.append("Programme 2019-2022")
    rows = []
    for t in charter.themes:
        for i, p in enumerate(t.principles):
            row = [t.title if i == 0 else "", _ref(p.title, principle_label(p.id))]
            row += [str(a.score(p.id)) for a in assessments]
            row.append(fmt_number(means[p.id]))
            if ref:
                row.append(fmt_number(ref.get(p.id)))
            rows.append(row)
    overall = [_mean(a.score(pid) for pid in charter.principle_ids) for a in assessments]
    total = ["**Moyenne générale**", ""] + [f"**{fmt_number(v)}**" for v in overall]
    total.append(f"**{fmt_number(overall_average(charter, means))}**")
    if ref:
        total.append(fmt_number(_mean(ref.values())))
    rows.append(total)
    return _table(headers, rows) + "\n"


def render_open_risks(charter: Charter, assessments: list[LabAssessment]) -> str:
    rows = []
    for a in assessments:
        for r in a.data["risks"]:
            if r["status"] != "handled":
                principles = ", ".join(_ref(charter.principle(pid).title, principle_label(pid))
                                       for pid in r["principles"])
                rows.append([_ref(a.short_title, a.label), _cell(r["risk"]), principles,
                             STATUS_LABELS[r["status"]], _cell(r["handling"])])
    if not rows:
        return "Aucun risque ouvert dans les évaluations des labs.\n"
    return _table(["Lab", "Risque", "Principes", "État", "Ce qui est fait"], rows) + "\n"


def render_assessed_labs(charter: Charter, assessments: list[LabAssessment]) -> str:
    if not assessments:
        return "Aucun lab n'est encore évalué.\n"
    rows = [[_doc_link(a.title, a.docname), _ref("évaluation", a.label),
             french_date(a.data["assessed"]["date"]), fmt_number(_mean(a.scores().values()))] for a in assessments]
    return _table(["Lab", "Évaluation", "Date", "Moyenne (sur 4)"], rows) + "\n"


#: What each marker of the pages of ethics-charter/ generates.
RENDERERS = {
    "label": lambda c, a, arg: render_label(c),
    "principles": lambda c, a, arg: render_principles_summary(c),
    "scale": lambda c, a, arg: render_scale(c),
    "frameworks": lambda c, a, arg: render_frameworks(c),
    "sources": lambda c, a, arg: render_sources(c),
    "theme": lambda c, a, arg: render_theme_page(c, arg, a),
    "theme-chart": lambda c, a, arg: render_theme_chart(c, a),
    "principle-table": lambda c, a, arg: render_principle_table(c, a),
    "open-risks": lambda c, a, arg: render_open_risks(c, a),
    "assessed-labs": lambda c, a, arg: render_assessed_labs(c, a),
}


def expand_markers(text: str, charter: Charter, assessments: list[LabAssessment],
                   shown: str = "page") -> tuple[str, list[str]]:
    """Replace every `<!-- dq-ethics: NAME [ARG] -->` line; return the text and the problems."""
    problems = []

    def replace(match: re.Match) -> str:
        name, arg = match.group(1), match.group(2)
        if name not in RENDERERS:
            problems.append(f"{shown}: unknown marker 'dq-ethics: {name}' (known: {', '.join(RENDERERS)})")
            return match.group(0)
        try:
            return RENDERERS[name](charter, assessments, arg)
        except KeyError as err:
            problems.append(f"{shown}: marker 'dq-ethics: {name} {arg or ''}': {err.args[0]}")
            return match.group(0)

    return MARKER.sub(replace, text), problems


# --- the assessment on a lab page (docutils nodes) --------------------------------------------

def assessment_section(charter: Charter, assessment: LabAssessment, document, docname: str):
    """The "Évaluation éthique" section appended to a lab page, as docutils nodes.

    Built as nodes in the lab's own document (not parsed from text) so that docutils gives the
    headings unique ids even when a lab already has a heading with the same words.
    """
    from docutils import nodes
    from sphinx import addnodes

    def text_ref(text: str, target: str, reftype: str = "ref"):
        if reftype == "doc":  # absolute docname, else it is read relative to the lab's folder
            target = "/" + target
        ref = addnodes.pending_xref("", refdomain="std", reftype=reftype, reftarget=target,
                                    refexplicit=True, refwarn=True, refdoc=docname)
        ref += nodes.inline(text, text)
        return ref

    def para(*parts):
        p = nodes.paragraph()
        for part in parts:
            p += nodes.Text(part) if isinstance(part, str) else part
        return p

    def table(headers, rows, widths):
        """A table; a row given as a single node spans all the columns (a theme's header row)."""
        # "colwidths-given": the HTML writer then emits the widths (else the browser squeezes
        # the justification column).
        tbl = nodes.table(classes=["dq-ethics-table", "colwidths-given"])
        group = nodes.tgroup(cols=len(headers))
        tbl += group
        group += [nodes.colspec(colwidth=w) for w in widths]
        head = nodes.thead()
        head += nodes.row("", *[nodes.entry("", para(h)) for h in headers])
        group += head
        body = nodes.tbody()
        for r in rows:
            if isinstance(r, nodes.Node):
                body += nodes.row("", nodes.entry("", r, morecols=len(headers) - 1))
                continue
            body += nodes.row("", *[nodes.entry("", c if isinstance(c, nodes.Node) else para(c)) for c in r])
        group += body
        return tbl

    def section(title: str, explicit_name: str | None = None):
        sec = nodes.section()
        sec += nodes.title(title, title)
        sec["names"].append(nodes.fully_normalize_name(explicit_name or title))
        if explicit_name:
            document.note_explicit_target(sec, sec)
        else:
            document.note_implicit_target(sec, sec)
        return sec

    data = assessment.data
    top = section("Évaluation éthique du lab", assessment.label)
    mean = _mean(assessment.scores().values())
    top += para("Ce lab est évalué au regard des 15 principes de la ", text_ref("charte éthique", CHARTER_DOC, "doc"),
                f", chacun noté de 0 à 4 (", text_ref("échelle", "ethics-scale"),
                f"). Évaluation du {french_date(data['assessed']['date'])} par {data['assessed']['by']}{_NNBSP}; "
                f"score moyen : {fmt_number(mean)} sur 4. ",
                "La comparaison avec les autres labs est dans la ",
                text_ref("synthèse des évaluations", OVERVIEW_DOC, "doc"), ".")
    top += para(_one_line(data["summary"]))

    scores = section("Scores par principe")
    means = theme_averages(charter, assessment.scores())
    rows = []
    for t in charter.themes:
        for i, p in enumerate(t.principles):
            entry = data["principles"][p.id]
            level = charter.level(entry["score"])
            cell = nodes.container("", para(_one_line(entry["justification"])))
            if entry.get("to_improve"):
                cell += para(nodes.emphasis("", "Pour progresser : "), _one_line(entry["to_improve"]))
            if i == 0:
                rows.append(para(nodes.strong("", "", text_ref(t.title, f"ethics-theme-{t.id}")),
                                 f" — moyenne du thème : {fmt_number(means[t.id])} / 4"))
            rows.append([para(text_ref(p.title, principle_label(p.id))),
                         nodes.container("", para(nodes.strong("", f"{entry['score']} / 4")), para(level.label)),
                         cell])
    scores += table(["Principe", "Score", "Justification"], rows, [22, 14, 64])
    top += scores

    risks = section("Risques et réponses")
    rows = []
    for r in data["risks"]:
        principles = para()
        for k, pid in enumerate(r["principles"]):
            if k:
                principles += nodes.Text(", ")
            principles += text_ref(charter.principle(pid).title, principle_label(pid))
        rows.append([_one_line(r["risk"]), principles, _one_line(r["handling"]), STATUS_LABELS[r["status"]]])
    risks += table(["Risque", "Principes", "Ce que fait le lab", "État"], rows, [32, 18, 38, 12])
    top += risks

    used = section("Données évaluées")
    if not data["datasets"]:
        used += para("Ce lab ne lit aucun jeu de données.")
    else:
        used += para("La licence et le statut de chaque jeu de données sont ceux que déclare le paquet "
                     "de données du livre (", nodes.literal("", DATAPACKAGE_FILE), ").")
    for entry in data["datasets"]:
        res = assessment.resources[entry["name"]]
        used += para(nodes.literal("", entry["name"]), " — ", nodes.strong("", res.get("title", "")))
        fields = nodes.field_list()
        licence = ", ".join(lic.get("title") or lic.get("name") for lic in res.get("licenses", []))
        if res.get("licence_status") == "verified":
            licence_body = [para(licence, " (vérifiée).")]
        else:  # never presented as cleared
            licence_body = [para(licence, " — ", nodes.strong("", "licence non vérifiée."))]
            if res.get("licence_note"):
                licence_body.append(para(_one_line(res["licence_note"])))
        status = (("Données synthétiques (inventées)" if res.get("synthetic") else "Données réelles") + " ; "
                  + ("données personnelles." if res.get("personal_data")
                     else "pas de données personnelles déclarées."))
        status_body = [para(status)] + [para(_one_line(entry[k])) for k in ("synthetic_notice", "personal_data_notice")
                                        if entry.get(k)]
        for name, body in (("Producteur", [para(_one_line(res.get("producer", "non indiqué")))]),
                           ("Usage dans le lab", [para(_one_line(entry["use"]))]),
                           ("Licence", licence_body), ("Statut", status_body)):
            fields += nodes.field("", nodes.field_name(name, name), nodes.field_body("", *body))
        used += fields
    top += used
    return top


# --- the build --------------------------------------------------------------------------------

def _sphinx_logger():
    from sphinx.util import logging
    return logging.getLogger(__name__)


def _report_of(app) -> Report | None:
    return getattr(app, "_dq_ethics_report", None)


def _on_builder_inited(app) -> None:
    root = Path(app.srcdir)
    report = check_repository(root)
    logger = _sphinx_logger()
    if report.charter:
        for t in report.charter.themes:
            page = root / (theme_doc(t.id) + ".md")
            if not page.exists():
                report.errors.append(f"{CHARTER_FILE}: theme '{t.id}' has no page: create {_display(page, root)} "
                                     f"containing '<!-- dq-ethics: theme {t.id} -->' and list it in _toc.yml")
    for message in report.errors:
        logger.warning(message, type="dataquartiers", subtype="ethics")
    app._dq_ethics_report = report


def _dependencies(report: Report) -> list[Path]:
    root = report.root
    paths = [root / CHARTER_FILE, root / DATAPACKAGE_FILE]
    paths += [assessment_path(nb) for nb in report.labs]
    return [p for p in paths if p.exists()]


def _on_source_read(app, docname: str, source: list[str]) -> None:
    if not docname.startswith("ethics-charter/") or "dq-ethics:" not in source[0]:
        return
    report = _report_of(app)
    if report is None or report.charter is None:
        return  # already reported by the check
    # Only the labs this build contains (a lab not yet in _toc.yml is checked, not linked to).
    built = [a for a in report.assessments if a.docname in app.env.found_docs]
    # ... in the order of the table of contents (sphinx-external-toc's site map), else by name.
    order = list(getattr(app.config, "external_site_map", None) or [])
    built.sort(key=lambda a: (order.index(a.docname) if a.docname in order else len(order), a.stem))
    text, problems = expand_markers(source[0], report.charter, built,
                                    _display(Path(app.env.doc2path(docname)), report.root))
    for message in problems:
        _sphinx_logger().warning(message, type="dataquartiers", subtype="ethics")
    for path in _dependencies(report):
        app.env.note_dependency(str(path))
    source[0] = text


def _generated_pages_inputs(root: Path) -> str:
    """A digest of everything the generated charter pages are made of: the charter, the data
    package, every lab and its assessment (titles, scores), the table of contents (order)."""
    import hashlib

    digest = hashlib.sha256()
    paths = [root / CHARTER_FILE, root / DATAPACKAGE_FILE, root / "_toc.yml"]
    paths += sorted((root / LABS_DIR).glob("*.ipynb")) + sorted((root / LABS_DIR).glob("*" + ASSESSMENT_SUFFIX))
    for path in paths:
        if path.exists():
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _on_env_get_outdated(app, env, added, changed, removed) -> list[str]:
    """The generated pages depend on every lab and assessment: re-read them when one of these
    changed since the last build (a Sphinx dependency alone would miss an added lab)."""
    digest = _generated_pages_inputs(Path(app.srcdir))
    if getattr(env, "dq_ethics_inputs", None) == digest:
        return []
    env.dq_ethics_inputs = digest
    return [d for d in env.found_docs if d.startswith("ethics-charter/") and not d.endswith("auto-evaluation")]


def _assessment_transform_class():
    from docutils import nodes
    from sphinx.transforms import SphinxTransform

    class AppendEthicsAssessment(SphinxTransform):
        """Append its assessment at the end of every lab page (docnames labs/*, not labs/index).

        Runs before the doctree-read event (priority 880) so that the new headings reach the
        page's table of contents and the section's label is registered for cross-references.
        """

        default_priority = 700

        def apply(self, **kwargs) -> None:
            docname = self.env.docname
            if not docname.startswith(LABS_DIR + "/") or docname == f"{LABS_DIR}/index":
                return
            report = _report_of(self.app)
            if report is None or report.charter is None:
                return
            stem = docname[len(LABS_DIR) + 1:]
            assessment = next((a for a in report.assessments if a.stem == stem), None)
            for path in _dependencies(report):
                self.env.note_dependency(str(path))
            if assessment is None:  # missing or invalid: the check has said why
                return
            top_sections = [n for n in self.document.children if isinstance(n, nodes.section)]
            parent = top_sections[0] if top_sections else self.document
            parent += assessment_section(report.charter, assessment, self.document, docname)

    return AppendEthicsAssessment


def setup_sphinx(app) -> None:
    """Register the ethics hooks on the book's Sphinx application (called by booktools.book)."""
    app.connect("builder-inited", _on_builder_inited)
    app.connect("source-read", _on_source_read)
    app.connect("env-get-outdated", _on_env_get_outdated)
    app.add_transform(_assessment_transform_class())


# --- command line ---------------------------------------------------------------------------------

def skeleton(charter: Charter, notebook: Path, root: Path | None = None) -> str:
    """An assessment to fill in for a new lab: every principle, the datasets it reads."""
    resources = _package_resources(root or REPO_DIR, None)[0]
    read = notebooks.datasets_read(notebooks.read(notebook), {"resources": list(resources.values())}).reads
    lines = [f"# Évaluation éthique du lab {_display(notebook, root)}, selon {CHARTER_FILE}.",
             "# Chaque principe : un score entier de 0 à 4 et une justification (voir l'échelle dans la charte).",
             "# Licence et statut des jeux de données : lus dans datasets/datapackage.json, ne pas les recopier.",
             'summary: ""',
             "assessed:",
             f"  date: {_dt.date.today().isoformat()}",
             '  by: ""  # une équipe ou une structure, pas le nom d\'une personne',
             "datasets:" + ("" if read else " []")]
    for name in read:
        lines += [f"  - name: {name}", '    use: ""']
    lines.append("principles:")
    for t in charter.themes:
        lines.append(f"  # --- {t.title}")
        for p in t.principles:
            lines += [f"  {p.id}:  # {p.title}", "    score:", '    justification: ""']
    lines += ["risks:", '  - risk: ""', "    principles: []", '    handling: ""', "    status: open", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m booktools.ethics",
                                     description="La charte éthique et les évaluations des labs.")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="vérifier la charte et l'évaluation de chaque labs/*.ipynb")
    check.add_argument("--root", type=Path, default=Path.cwd(), help="racine du livre (défaut : dossier courant)")
    new = sub.add_parser("new", help="créer l'évaluation à remplir d'un lab")
    new.add_argument("notebook", type=Path)
    new.add_argument("--root", type=Path, default=Path.cwd())
    args = parser.parse_args(argv)

    if args.command == "check":
        report = check_repository(args.root)
        for message in report.errors:
            print(message, file=sys.stderr)
        if report.errors:
            print(f"ethics: {len(report.errors)} problem(s)", file=sys.stderr)
            return 1
        print(f"ethics: {len(report.assessments)} lab(s) assessed against the "
              f"{len(report.charter.principles)} principles of {CHARTER_FILE}: OK")
        return 0
    target = assessment_path(args.notebook)
    if target.exists():
        print(f"{_display(target, args.root)}: already exists", file=sys.stderr)
        return 1
    charter = load_charter(args.root / CHARTER_FILE)
    target.write_text(skeleton(charter, args.notebook, args.root), encoding="utf-8")
    print(f"{_display(target, args.root)}: created; fill it in, then run `python -m booktools.ethics check`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
