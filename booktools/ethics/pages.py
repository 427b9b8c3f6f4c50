"""What the charter's pages and the lab pages show, built as docutils nodes from the data.

Every piece is built from `ethics-charter/charter.yml` and the labs' assessments as docutils
nodes, never as Markdown text to be parsed again: what a person wrote in a YAML file (a
justification, a risk, a title) lands in the page as text, escaped by the HTML writer, and cannot
become markup (a role, a table cell, an HTML tag). The two pieces of HTML (the chart and the
self-assessment form) come from Jinja2 templates with autoescape.

The directives of `sphinx_ext.py` call the `render_*` functions; the transform that appends the
assessment to every lab page calls `assessment_section`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from docutils import nodes
from sphinx import addnodes

from dataquartiers.charter import (_NNBSP, MAX_SCORE, Charter, _mean, _one_line, fmt_number, french_date,
                                   overall_average, theme_averages)

from .check import DATAPACKAGE_FILE, STATUS_LABELS, LabAssessment, principle_averages

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

#: Docnames of the pages of the charter.
CHARTER_DOC = "ethics-charter/index"
OVERVIEW_DOC = "ethics-charter/evaluations"
THEME_DOC = "ethics-charter/themes/{id}"
SCALE_LABEL = "ethics-scale"


def theme_doc(theme_id: str) -> str:
    return THEME_DOC.format(id=theme_id)


def theme_label(theme_id: str) -> str:
    return f"ethics-theme-{theme_id}"


def principle_label(principle_id: str) -> str:
    return f"ethics-{principle_id}"


@lru_cache(maxsize=None)
def _jinja():
    import jinja2

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def render_template(name: str, **values) -> str:
    return _jinja().get_template(name).render(**values)


# --- nodes -----------------------------------------------------------------------------------

class NodeMaker:
    """Small builders of docutils nodes for one document (cross-references resolve from it)."""

    def __init__(self, document, docname: str):
        self.document = document
        self.docname = docname

    def ref(self, text: str, target: str, reftype: str = "ref") -> addnodes.pending_xref:
        """A link to a label (`ref`) or to a page (`doc`, absolute docname)."""
        if reftype == "doc":  # absolute, else it is read relative to the current page's folder
            target = "/" + target.lstrip("/")
        ref = addnodes.pending_xref("", refdomain="std", reftype=reftype, reftarget=target, refexplicit=True,
                                    refwarn=True, refdoc=self.docname)
        ref += nodes.inline(text, text)
        return ref

    def doc(self, text: str, docname: str) -> addnodes.pending_xref:
        return self.ref(text, docname, "doc")

    @staticmethod
    def text(value) -> str:
        """What a person wrote, on one line with French spacing (never parsed as markup)."""
        return _one_line(value)

    @staticmethod
    def para(*parts) -> nodes.paragraph:
        p = nodes.paragraph()
        for part in parts:
            p += nodes.Text(part) if isinstance(part, str) else part
        return p

    @staticmethod
    def strong(text: str) -> nodes.strong:
        return nodes.strong(text, text)

    @staticmethod
    def link(text: str, url: str) -> nodes.reference:
        return nodes.reference(text, text, refuri=url)

    def bullets(self, items) -> nodes.bullet_list:
        out = nodes.bullet_list()
        for item in items:
            out += nodes.list_item("", item if isinstance(item, nodes.Node) else self.para(item))
        return out

    def table(self, headers, rows, widths=None, classes=("dq-ethics-table",)) -> nodes.table:
        """A table; a row given as a single node spans all the columns (a theme's header row)."""
        widths = widths or [1] * len(headers)
        # "colwidths-given": the HTML writer then emits the widths (else the browser squeezes the
        # justification column).
        tbl = nodes.table(classes=list(classes) + ["colwidths-given"])
        group = nodes.tgroup(cols=len(headers))
        tbl += group
        group += [nodes.colspec(colwidth=w) for w in widths]
        group += nodes.thead("", nodes.row("", *[nodes.entry("", self._cell(h)) for h in headers]))
        body = nodes.tbody()
        for r in rows:
            if isinstance(r, nodes.Node):
                body += nodes.row("", nodes.entry("", r, morecols=len(headers) - 1))
            else:
                body += nodes.row("", *[nodes.entry("", self._cell(c)) for c in r])
        group += body
        return tbl

    def _cell(self, content) -> nodes.Node:
        if isinstance(content, (nodes.paragraph, nodes.container, nodes.bullet_list)):
            return content
        return self.para(content)

    def section(self, title: str, label: str | None = None) -> nodes.section:
        """A section whose id docutils makes unique in the document; `label` makes it a target of
        {ref} (registered by Sphinx's standard domain when the document is read)."""
        sec = nodes.section()
        sec += nodes.title(title, title)
        sec["names"].append(nodes.fully_normalize_name(label or title))
        if label:
            self.document.note_explicit_target(sec, sec)
        else:
            self.document.note_implicit_target(sec, sec)
        return sec

    def target(self, label: str) -> nodes.target:
        """An anchor named `label` (a {ref} to it needs an explicit text)."""
        node = nodes.target("", "", names=[label])
        self.document.note_explicit_target(node, node)
        return node


# --- the charter page ---------------------------------------------------------------------------

def render_label(charter: Charter, make: NodeMaker) -> list[nodes.Node]:
    lab = charter.label
    box = nodes.admonition(classes=["tip"])
    box += nodes.title("Un programme labellisé", "Un programme labellisé")
    box += make.para(make.text(lab["fact"]))
    box += make.para(make.text(lab["about"]) + " Voir ", make.link(f"le site d'{lab['awarded_by']}", lab["url"]), ".")
    return [box]


def render_principles_summary(charter: Charter, make: NodeMaker) -> list[nodes.Node]:
    """The themes and principles in short, one subsection per theme."""
    out = []
    for t in charter.themes:
        sec = make.section(t.title)
        sec += make.para(make.text(t.intro))
        sec += make.bullets(make.para(make.strong(p.title), " — " + make.text(p.definition)) for p in t.principles)
        sec += make.para("Les questions à se poser et les scores des labs : ", make.doc(t.title, theme_doc(t.id)), ".")
        out.append(sec)
    return out


def render_scale(charter: Charter, make: NodeMaker) -> list[nodes.Node]:
    rows = [[make.para(make.strong(str(lv.level))), lv.label, make.text(lv.meaning)] for lv in charter.scale]
    return [make.target(SCALE_LABEL), make.table(["Score", "Niveau", "Ce que cela veut dire"], rows, [10, 22, 68])]


def render_frameworks(charter: Charter, make: NodeMaker) -> list[nodes.Node]:
    return [make.bullets(make.para(make.link(f["name"], f["url"]), f", {f['publisher']} : " + make.text(f["contribution"]))
                         for f in charter.frameworks)]


def render_sources(charter: Charter, make: NodeMaker) -> list[nodes.Node]:
    items = [make.para(f"{charter.label['awarded_by']}, site officiel : ", make.link(charter.label["url"], charter.label["url"]))]
    items += [make.para(f"{f['publisher']}, ", nodes.emphasis(f["name"], f["name"]), " : ", make.link(f["url"], f["url"]))
              for f in charter.frameworks]
    if charter.reference:
        items.append(make.para(make.text(charter.reference["source"])))
    return [make.bullets(items)]


# --- a theme's page ---------------------------------------------------------------------------------

def limits_note(principle, make: NodeMaker) -> nodes.paragraph | None:
    """What the check requires of a principle with `cite_limits_from`, said on the page."""
    if principle.cite_limits_from is None:
        return None
    scores = " ou ".join(str(s) for s in range(principle.cite_limits_from, MAX_SCORE + 1))
    return make.para(nodes.emphasis("", f"Dans l'évaluation d'un lab, un score de {scores} renvoie à la section "
                                        "des limites du lab : un résultat ne se dit robuste qu'à côté de ce qui le "
                                        "limite. Le contrôle des évaluations le vérifie."))


def justification_cell(assessment: LabAssessment, principle_id: str, make: NodeMaker,
                       with_improvement: bool = False) -> nodes.container:
    """The justification of one score; the lab's limits section linked when the assessment cites it."""
    entry = assessment.data["principles"][principle_id]
    cell = nodes.container("", make.para(make.text(entry["justification"])))
    if entry.get("limits_section"):
        cell += make.para(nodes.emphasis("", "Limites : "), "voir la section ",
                          make.ref(f"« {entry['limits_section'].strip()} »", assessment.limits_label),
                          f" du lab {assessment.short_title}.")
    if with_improvement and entry.get("to_improve"):
        cell += make.para(nodes.emphasis("", "Pour progresser : "), make.text(entry["to_improve"]))
    return cell


def render_theme_page(charter: Charter, theme_id: str, assessments: list[LabAssessment],
                      make: NodeMaker) -> list[nodes.Node]:
    """The whole page of one theme: its principles, their questions, how the labs score them."""
    t = charter.theme(theme_id)
    page = make.section(t.title, theme_label(t.id))
    page += make.para(make.text(t.intro))
    n = len(t.principles)
    page += make.para("Ce thème de la ", make.doc("charte éthique", CHARTER_DOC),
                      f" compte {n} principe{'s' if n > 1 else ''}. Chaque principe est noté de 0 à {MAX_SCORE} selon ",
                      make.ref("l’échelle commune", SCALE_LABEL), ".")
    for p in t.principles:
        sec = make.section(p.title, principle_label(p.id))
        sec += make.para(make.text(p.definition))
        sec += make.para(make.strong("Les questions à se poser pour un projet de quartier :"))
        sec += make.bullets(make.text(q) for q in p.questions)
        note = limits_note(p, make)
        if note is not None:
            sec += note
        if assessments:
            rows = [[make.para(make.ref(a.short_title, a.label)), f"{a.score(p.id)} / {MAX_SCORE}",
                     justification_cell(a, p.id, make)] for a in assessments]
            sec += make.para(make.strong("Dans les labs du livre :"))
            sec += make.table(["Lab", "Score", "Justification"], rows, [20, 10, 70])
        page += sec
    sources = make.section("Sources")
    sources += render_sources(charter, make)
    page += sources
    return [page]


# --- the overview of the labs' assessments -----------------------------------------------------------

def chart_svg(charter: Charter, lab_means: dict[str, float | None], n_labs: int) -> str:
    """Grouped horizontal bars (labs, programme reference) per theme, with <title> and <desc>."""
    ref = (charter.reference or {}).get("theme_averages", {})
    left, width, row_height, top = 16, 420, 66, 52
    height = top + row_height * len(charter.themes) + 26
    unit = width / MAX_SCORE
    rows, desc_parts = [], []
    for k, t in enumerate(charter.themes):
        mean, rmean = lab_means.get(t.id), ref.get(t.id)

        def bar(value):
            return None if value is None else {"width": f"{value * unit:.1f}", "text": fmt_number(value),
                                               "text_x": f"{left + value * unit + 6:.1f}"}
        rows.append({"y": top + k * row_height, "title": t.title, "labs": bar(mean), "reference": bar(rmean)})
        part = f"{t.title} : {fmt_number(mean)} sur {MAX_SCORE}"
        if rmean is not None:
            part += f" (programme 2019-2022 : {fmt_number(rmean)})"
        desc_parts.append(part)
    return render_template(
        "theme-chart.svg.j2", view_width=left + width + 60, height=height, left=left,
        grid_top=top - 14, grid_bottom=height - 22, has_reference=bool(ref),
        legend_labs=f"moyenne des labs du livre ({n_labs} lab{'s' if n_labs > 1 else ''})",
        ticks=[{"x": f"{left + i * unit:.1f}", "label": i} for i in range(MAX_SCORE + 1)],
        rows=rows, description=f"Score moyen des labs par thème de la charte, sur {MAX_SCORE}. "
                               + " ; ".join(desc_parts) + ".")


def _none_yet(make: NodeMaker) -> list[nodes.Node]:
    return [make.para("Aucun lab n'est encore évalué.")]


def render_theme_chart(charter: Charter, assessments: list[LabAssessment], make: NodeMaker) -> list[nodes.Node]:
    """The chart of theme averages and, as its text alternative, the same figures in a table."""
    if not assessments:
        return _none_yet(make)
    means = theme_averages(charter, principle_averages(charter, assessments))
    ref = (charter.reference or {}).get("theme_averages", {})
    figure = nodes.raw("", chart_svg(charter, means, len(assessments)), format="html")
    headers = ["Thème"] + [make.para(make.ref(a.short_title, a.label)) for a in assessments] + ["Moyenne des labs"]
    if ref:
        headers.append("Programme 2019-2022")
    rows = []
    for t in charter.themes:
        row = [make.para(make.doc(t.title, theme_doc(t.id)))]
        row += [fmt_number(theme_averages(charter, a.scores())[t.id]) for a in assessments]
        row.append(make.para(make.strong(fmt_number(means[t.id]))))
        if ref:
            row.append(fmt_number(ref.get(t.id)))
        rows.append(row)
    return [figure, make.table(headers, rows)]


def render_principle_table(charter: Charter, assessments: list[LabAssessment], make: NodeMaker) -> list[nodes.Node]:
    """Labs × principles: every score, the mean per principle and the programme's reference."""
    if not assessments:
        return _none_yet(make)
    ref = (charter.reference or {}).get("principle_scores", {})
    means = principle_averages(charter, assessments)
    headers = ["Thème", "Principe"] + [make.para(make.ref(a.short_title, a.label)) for a in assessments] + ["Moyenne"]
    if ref:
        headers.append("Programme 2019-2022")
    rows = []
    for t in charter.themes:
        for i, p in enumerate(t.principles):
            row = [t.title if i == 0 else "", make.para(make.ref(p.title, principle_label(p.id)))]
            row += [str(a.score(p.id)) for a in assessments]
            row.append(fmt_number(means[p.id]))
            if ref:
                row.append(fmt_number(ref.get(p.id)))
            rows.append(row)
    overall = [_mean(a.score(pid) for pid in charter.principle_ids) for a in assessments]
    total = [make.para(make.strong("Moyenne générale")), ""]
    total += [make.para(make.strong(fmt_number(v))) for v in overall]
    total.append(make.para(make.strong(fmt_number(overall_average(charter, means)))))
    if ref:
        total.append(fmt_number(_mean(ref.values())))
    rows.append(total)
    return [make.table(headers, rows)]


def render_open_risks(charter: Charter, assessments: list[LabAssessment], make: NodeMaker) -> list[nodes.Node]:
    rows = []
    for a in assessments:
        for r in a.data["risks"]:
            if r["status"] != "handled":
                principles = make.para()
                for k, pid in enumerate(r["principles"]):
                    if k:
                        principles += nodes.Text(", ")
                    principles += make.ref(charter.principle(pid).title, principle_label(pid))
                rows.append([make.para(make.ref(a.short_title, a.label)), make.text(r["risk"]), principles,
                             STATUS_LABELS[r["status"]], make.text(r["handling"])])
    if not rows:
        return [make.para("Aucun risque ouvert dans les évaluations des labs.")]
    return [make.table(["Lab", "Risque", "Principes", "État", "Ce qui est fait"], rows, [14, 28, 18, 10, 30])]


def render_assessed_labs(charter: Charter, assessments: list[LabAssessment], make: NodeMaker) -> list[nodes.Node]:
    if not assessments:
        return _none_yet(make)
    rows = [[make.para(make.doc(a.title, a.docname)), make.para(make.ref("évaluation", a.label)),
             french_date(a.data["assessed"]["date"]), fmt_number(_mean(a.scores().values()))] for a in assessments]
    return [make.table(["Lab", "Évaluation", "Date", "Moyenne (sur 4)"], rows, [46, 18, 20, 16])]


# --- the assessment on a lab page ---------------------------------------------------------------------

def mark_limits_sections(assessment: LabAssessment, document) -> None:
    """Give the lab's limits section(s) cited by the assessment the label `ethics-limits-<lab>`, so
    that the lab page, the theme pages and the overview link to it."""
    cited = assessment.cited_limits()
    for sec in document.findall(nodes.section):
        title = sec[0].astext().strip() if sec.children and isinstance(sec[0], nodes.title) else ""
        if title in cited and sec["ids"] and assessment.limits_label not in document.nameids:
            # Only the new label is made explicit: the section's own name (its title) stays implicit,
            # as in every lab, so the labs' « Limites » sections do not clash with each other.
            holder = nodes.Element(names=[assessment.limits_label])
            document.set_name_id_map(holder, sec["ids"][0], explicit=True)
            return


def assessment_section(charter: Charter, assessment: LabAssessment, document, docname: str) -> nodes.section:
    """The "Évaluation éthique" section appended to a lab page, as docutils nodes.

    Built as nodes in the lab's own document so that docutils gives the headings unique ids even
    when a lab already has a heading with the same words.
    """
    make = NodeMaker(document, docname)
    data = assessment.data
    top = make.section("Évaluation éthique du lab", assessment.label)
    mean = _mean(assessment.scores().values())
    top += make.para("Ce lab est évalué au regard des 15 principes de la ", make.doc("charte éthique", CHARTER_DOC),
                     f", chacun noté de 0 à {MAX_SCORE} (", make.ref("échelle", SCALE_LABEL),
                     f"). Évaluation du {french_date(data['assessed']['date'])} par {data['assessed']['by']}{_NNBSP}; "
                     f"score moyen : {fmt_number(mean)} sur {MAX_SCORE}. ",
                     "La comparaison avec les autres labs est dans la ",
                     make.doc("synthèse des évaluations", OVERVIEW_DOC), ".")
    top += make.para(make.text(data["summary"]))

    scores = make.section("Scores par principe")
    means = theme_averages(charter, assessment.scores())
    rows = []
    for t in charter.themes:
        for i, p in enumerate(t.principles):
            entry = data["principles"][p.id]
            level = charter.level(entry["score"])
            if i == 0:
                rows.append(make.para(nodes.strong("", "", make.ref(t.title, theme_label(t.id))),
                                      f" — moyenne du thème : {fmt_number(means[t.id])} / {MAX_SCORE}"))
            rows.append([make.para(make.ref(p.title, principle_label(p.id))),
                         nodes.container("", make.para(make.strong(f"{entry['score']} / {MAX_SCORE}")),
                                         make.para(level.label)),
                         justification_cell(assessment, p.id, make, with_improvement=True)])
    scores += make.table(["Principe", "Score", "Justification"], rows, [22, 14, 64])
    top += scores

    risks = make.section("Risques et réponses")
    rows = []
    for r in data["risks"]:
        principles = make.para()
        for k, pid in enumerate(r["principles"]):
            if k:
                principles += nodes.Text(", ")
            principles += make.ref(charter.principle(pid).title, principle_label(pid))
        rows.append([make.text(r["risk"]), principles, make.text(r["handling"]), STATUS_LABELS[r["status"]]])
    risks += make.table(["Risque", "Principes", "Ce que fait le lab", "État"], rows, [32, 18, 38, 12])
    top += risks

    used = make.section("Données évaluées")
    if not data["datasets"]:
        used += make.para("Ce lab ne lit aucun jeu de données.")
    else:
        used += make.para("La licence et le statut de chaque jeu de données sont ceux que déclare le paquet "
                          "de données du livre (", nodes.literal("", DATAPACKAGE_FILE), ").")
    for entry in data["datasets"]:
        res = assessment.resources[entry["name"]]
        used += make.para(nodes.literal("", entry["name"]), " — ", make.strong(res.get("title", "")))
        fields = nodes.field_list()
        licence = ", ".join(lic.get("title") or lic.get("name") for lic in res.get("licenses", []))
        if res.get("licence_status") == "verified":
            licence_body = [make.para(licence, " (vérifiée).")]
        else:  # never presented as cleared
            licence_body = [make.para(licence, " — ", make.strong("licence non vérifiée."))]
            if res.get("licence_note"):
                licence_body.append(make.para(make.text(res["licence_note"])))
        status = (("Données synthétiques (inventées)" if res.get("synthetic") else "Données réelles") + " ; "
                  + ("données personnelles." if res.get("personal_data")
                     else "pas de données personnelles déclarées."))
        status_body = [make.para(status)] + [make.para(make.text(entry[k]))
                                             for k in ("synthetic_notice", "personal_data_notice") if entry.get(k)]
        for name, body in (("Producteur", [make.para(make.text(res.get("producer", "non indiqué")))]),
                           ("Usage dans le lab", [make.para(make.text(entry["use"]))]),
                           ("Licence", licence_body), ("Statut", status_body)):
            fields += nodes.field("", nodes.field_name(name, name), nodes.field_body("", *body))
        used += fields
    top += used
    return top


# --- the self-assessment form (no kernel) ---------------------------------------------------------------

SELF_ASSESSMENT_SCRIPT = TEMPLATES_DIR / "self-assessment.js"


def charter_for_the_page(charter: Charter) -> dict:
    """What the form's script needs of the charter (the same strings as the Python exports use)."""
    return {"title": charter.title, "version": charter.version,
            "scale": [{"level": lv.level, "label": lv.label, "meaning": lv.meaning} for lv in charter.scale],
            "themes": [{"id": t.id, "title": t.title, "intro": t.intro,
                        "principles": [{"id": p.id, "title": p.title, "definition": p.definition,
                                        "questions": list(p.questions)} for p in t.principles]}
                       for t in charter.themes]}


def self_assessment_html(charter: Charter) -> str:
    """The form, its live averages, the filled grid and the downloads: HTML and a script, computed
    in the page from the charter (no Python behind a book page)."""
    script = SELF_ASSESSMENT_SCRIPT.read_text(encoding="utf-8")
    if "</script" in script.lower():  # it is inlined in a <script> element
        raise ValueError(f"{SELF_ASSESSMENT_SCRIPT} ne doit pas contenir « </script »")
    data = charter_for_the_page(charter)
    return render_template("self-assessment.html.j2", charter=charter, data=data, script=script)


def render_self_assessment(charter: Charter, make: NodeMaker) -> list[nodes.Node]:
    return [nodes.raw("", self_assessment_html(charter), format="html")]
