"""The « Former » part of the book in Sphinx: pages made from the training data (booktools/training.py).

Three kinds of data files are pages of the book by themselves, so that a new city, quiz or template
is one file (and a glob of _toc.yml lists it):

- `training/sessions/<ville>.session.yml` → the session page of a training city;
- `training/quiz/<id>.quiz.yml` → a self-check quiz, answered in the page without a kernel;
- `training/modeles/<id>.modele.yml` → a template page, with its .md, .odt and .docx files.

Sphinx reads them through the parsers below (registered suffixes). Every text that comes from a
data file is escaped before it reaches the MyST source of the page (a backslash before every ASCII
punctuation sign: `<script>`, `*`, `{role}` show as typed); the quiz's questions and the template's
text are docutils nodes built from the data, never parsed as markup.

Four directives, written in the committed pages of training/, put the rest where an author sees it:
`{dq-animation}` (the facilitator notes of every lab), `{dq-profils}` (the learner profiles),
`{dq-fiches}` (the printable handouts), `{dq-sommaire}` with `sessions`, `quiz` or `modeles` (the
lists of those pages). Registered by booktools/book.py.
"""

from __future__ import annotations

import posixpath
import re
import shutil
import string
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from myst_parser.parsers.sphinx_ import MystParser
from sphinx.application import Sphinx
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from . import training as tr
from . import training_handouts
from .datasets_page import role_text
from .training_documents import REVIEW_NOTICE, parse_markdown, to_docutils, to_docx, to_odt
from .training_handouts import BOOK_PDF, HANDOUTS_DIR

logger = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "training_static"
STATIC_OUT = "dq-training"
#: Where the built files go in the site (relative to the output folder).
TEMPLATE_FILES_DIR = f"{tr.TEMPLATES_DIR}/fichiers"

#: One badge per status of booktools/coverage.py (STATUSES).
STATUS_BADGES = {"complet": "{bdg-success}`complet`", "partiel": "{bdg-warning}`en partie`",
                 "sans cartes": "{bdg-warning}`sans carte`", "non disponible": "{bdg-danger}`données absentes`"}
METHOD_STEPS = {1: "la question", 2: "les partenaires", 3: "l'inventaire", 4: "le cadre", 5: "l'analyse",
                6: "la restitution", 7: "la durée"}


#: A backslash before every ASCII punctuation sign: MyST then shows `<script>`, `*`, `{role}`, `|` as typed.
_ESCAPED = {ord(c): "\\" + c for c in string.punctuation}
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")


def md(text: object) -> str:
    """Text from a data file made safe for one line of MyST Markdown: shown exactly as typed."""
    return " ".join(str(text).split()).translate(_ESCAPED)


def md_paragraphs(text: object) -> str:
    """Text with blank lines between paragraphs, made safe for MyST Markdown."""
    return "\n\n".join(md(p) for p in re.split(r"\n\s*\n", str(text)) if p.strip())


def md_link(text: object, url: object) -> str:
    """A link when `url` is a plain http(s) address, else the escaped text alone."""
    return f"[{md(text)}](<{url}>)" if isinstance(url, str) and _URL.match(url) else md(text)


def md_code(text: object, table: bool = False) -> str:
    """Like `md`, but `inline code` stays code (a code span shows its content as typed); in a table
    cell, a | inside the code is escaped so that it does not end the cell."""
    parts = re.split(r"(`[^`\n]+`)", " ".join(str(text).split()))
    return "".join((part.replace("|", "\\|") if table else part) if part.startswith("`") and len(part) > 2
                   else part.translate(_ESCAPED) for part in parts)


def doc_link(docname: str, title: str | None = None) -> str:
    """A {doc} link to a page of the book, from any page (absolute docname)."""
    return f"{{doc}}`{role_text(title)} </{docname}>`" if title else f"{{doc}}`/{docname}`"


def _training(app: Sphinx) -> tr.Training:
    return app.dq_training


# --- the build hooks ------------------------------------------------------------------------

def _on_builder_inited(app: Sphinx) -> None:
    root = Path(app.srcdir)
    app.dq_training = tr.load_training(root)
    app.dq_coverage = None  # computed the first time a session page needs it
    for problem in app.dq_training.problems:
        logger.warning(problem, type="training", subtype="check")


def coverage_of(app: Sphinx) -> dict:
    """(lab, commune) → its row of booktools/coverage.py, the rows of the labs index page reused."""
    if app.dq_coverage is None:
        from .buildcache import build_cache_dir
        from .coverage import cached_coverage

        training = _training(app)
        app.dq_coverage = tr.lab_coverage(training.sessions, cached_coverage(str(training.root), str(build_cache_dir(app))))
    return app.dq_coverage


def _note_inputs(env, paths) -> None:
    for path in paths:
        env.note_dependency(str(path))


# --- data files as pages --------------------------------------------------------------------

class _DataPageParser(MystParser):
    """A data file of training/ read as a page: its MyST rendering, then nodes appended.

    A file with errors (reported as build warnings by the check) becomes a page that says so."""

    suffix = ""
    kind = ""  # the word that names the page when its file is broken
    collection = ""  # where the checked files are, in booktools.training.Training

    def parse(self, inputstring: str, document: nodes.document) -> None:
        env = document.settings.env
        app = env.app
        path = Path(env.doc2path(env.docname))
        stem = path.name[: -len(self.suffix)]
        _note_inputs(env, _training(app).inputs() + self.inputs(Path(app.srcdir)))
        item = getattr(_training(app), self.collection).get(stem)
        if item is None:
            shown = tr.shown_path(path, Path(app.srcdir))
            text, at_end, in_last_part = _broken_page(f"{self.kind} {stem}", shown), [], []
        else:
            text, at_end, in_last_part = self.render(app, item)
        super().parse(text, document)
        page = next(iter(document.findall(nodes.section)), None)
        parts = [c for c in page.children if isinstance(c, nodes.section)]
        (parts[-1] if parts else page).extend(in_last_part)
        page.extend(at_end)

    def inputs(self, root: Path) -> list[Path]:
        """What the page reads besides the training files."""
        return []

    def render(self, app: Sphinx, item) -> tuple[str, list, list]:
        """The page's MyST source, the nodes that end the page, the nodes that end its last part."""
        raise NotImplementedError


def _broken_page(title: str, shown: str) -> str:
    return (f"# {md(title)}\n\n```{{error}}\nLe fichier {md(shown)} contient des erreurs (voir les messages de la "
            "construction, ou `python -m booktools.training check`) : cette page ne peut pas être affichée.\n```\n")


class SessionParser(_DataPageParser):
    supported = ("dq-session",)
    suffix, kind, collection = tr.SESSION_SUFFIX, "Session", "sessions"

    def inputs(self, root):
        return [*sorted((root / "catalogue" / "partners").glob("*.yml")), root / "datasets" / "datapackage.json",
                root / "datasets" / "qpv" / "qp2024_liste_communes.csv"]

    def render(self, app, item):
        return render_session(app, item), [], []


class QuizParser(_DataPageParser):
    supported = ("dq-quiz",)
    suffix, kind, collection = tr.QUIZ_SUFFIX, "Quiz", "quizzes"

    def render(self, app, item):
        return render_quiz_intro(item), [quiz_nodes(item)], []


class TemplateParser(_DataPageParser):
    supported = ("dq-modele",)
    suffix, kind, collection = tr.TEMPLATE_SUFFIX, "Modèle", "templates"

    def render(self, app, item):
        return render_template_page(app, item)


# --- a session page -------------------------------------------------------------------------

def _programme_table(app: Sphinx, session: tr.Session, programme: tr.Programme) -> list[str]:
    coverage = coverage_of(app)
    notes = _training(app).notes
    lines = ["| Heure | Durée | Étape | Avec |", "|---|---|---|---|"]
    for step in programme.steps:
        with_ = "—"
        if step.kind == "lab" and step.lab in notes:
            row = coverage.get((step.lab, session.data["commune"]))
            badge = f" {STATUS_BADGES[row.status]}" if row else ""
            track = " (parcours court)" if step.track == "court" else ""
            where = f" ; territoire : {_territory_to_use(app, step.lab, session)}"
            with_ = f"{doc_link('labs/' + step.lab, notes[step.lab].lab.title)}{track}{badge}{where}"
        elif step.page:
            with_ = doc_link(step.page)
        what = f"**{md(step.title)}**" + (f" — {md(step.instructions)}" if step.instructions else "")
        lines.append(f"| {_nbsp(tr.clock(step.start))} | {_nbsp(tr.duration_fr(step.minutes))} | {what} | {with_} |")
    total = programme.end - programme.start
    lines.append(f"| {_nbsp(tr.clock(programme.end))} | **{_nbsp(tr.duration_fr(total))}** | fin | |")
    return lines


def _nbsp(text: str) -> str:
    """« 9 h 00 », « 15 min » kept on one line in a narrow column."""
    return text.replace(" ", "\u00a0")


def _territories_of(notebook: Path) -> list[tuple[str, str]]:
    """The territory codes written in a lab's parameters cell, with the comment that names them."""
    found = []
    for line in tr.notebooks.parameters(tr.notebooks.read(notebook)).splitlines():
        m = re.match(r'\s*[A-Z_]+\s*=\s*"(\d{2,3}|\d[\dAB]\d{3}|\d{9})"\s*(?:#\s*([^;]*))?', line)
        if m:
            found.append((m.group(1), (m.group(2) or "").strip()))
    return found


def _territory_to_use(app: Sphinx, lab: str, session: tr.Session) -> str:
    """The city itself where its data are there (even without maps), else the lab's own territories."""
    from dataquartiers import data as dq_data

    training = _training(app)
    commune = session.data["commune"]
    row = coverage_of(app).get((lab, commune))
    if row is not None and row.status != "non disponible":
        return f"{md(session.data['ville'])} (`{commune}`)"
    cog = dq_data.load("communes", folder=training.root / "datasets").set_index("code")["nom"]
    notebook = training.root / tr.notebooks.LABS_DIR / f"{lab}.ipynb"
    return " et ".join(f"{md(cog.get(code, note or code))} (`{code}`)" for code, note in _territories_of(notebook)) or "—"


def render_session(app: Sphinx, session: tr.Session) -> str:
    training = _training(app)
    d = session.data
    city, commune = d["ville"], d["commune"]
    out = [f"# Session de formation à {md(city)}", "", md_paragraphs(d["public"]), ""]
    out += ["```{admonition} Cette page est faite à partir d'un fichier",
            f"Le programme, les prérequis et la salle viennent de `{tr.SESSIONS_DIR}/{session.id}{tr.SESSION_SUFFIX}` ; "
            "les quartiers, les partenaires et les labs, des données du livre. Pour une nouvelle ville, copiez ce "
            "fichier et adaptez-le : la vérification (`python -m booktools.training check`) dit ce qui manque.",
            "```", ""]
    for key, title in (("demi_journee", "Le programme d'une demi-journée (3 h)"),
                       ("journee", "Le programme d'une journée")):
        prog = session.half_day if key == "demi_journee" else session.full_day
        out += [f"## {title}", "",
                f"De {tr.clock(prog.start)} à {tr.clock(prog.end)}, minuté étape par étape ; la durée de chaque lab est "
                f"celle de ses {doc_link(tr.TRAINING_DIR + '/animation', 'notes d’animation')}.", ""]
        out += _programme_table(app, session, prog) + [""]
    coverage = coverage_of(app)
    out += [f"## Les labs à {md(city)}, et sur quel territoire", "",
            f"Ce tableau dit ce que chaque lab peut faire à {md(city)} avec les données livrées avec le livre : il pose "
            "aux données les questions que pose le lab (contours, carreaux, tables des quartiers). C'est le tableau de la "
            f"{doc_link('labs/index', 'page des labs')} ; les tests exécutent chaque lab sur chaque ville de formation et "
            "vérifient que ses cartes sont celles que promet le tableau. Là où les données manquent, faites le lab sur le territoire prévu par ses paramètres, et "
            "montrez ce qu'il faudrait pour la ville.",
            "", "| Lab | À " + md(city) + " | Territoire à utiliser | Pourquoi |", "|---|---|---|---|"]
    for notebook in training.labs:
        row = coverage.get((notebook.stem, commune))
        use = _territory_to_use(app, notebook.stem, session)
        title = training.notes[notebook.stem].lab.title if notebook.stem in training.notes else notebook.stem
        status, reason = (STATUS_BADGES[row.status], md(row.reason)) if row else (
            "—", "ce lab n'est pas encore dans le tableau de couverture (booktools/coverage.py)")
        out.append(f"| {doc_link('labs/' + notebook.stem, tr.notebooks.short_title(title))} | {status} "
                   f"| {use} | {reason} |")
    out += ["", *_qpv_section(training, d), *_partners_section(app, d)]
    out += ["## Prérequis pour les stagiaires", ""] + [f"- {md(p)}" for p in d["prerequis"]] + [""]
    out += ["## La salle : liste de vérification", ""] + _room_checklist(d) + [""]
    out += ["## Pour préparer", "",
            f"- les {doc_link(tr.TRAINING_DIR + '/animation', 'notes d’animation des labs')} (minutage, réponses, débriefing) ;",
            f"- les {doc_link(tr.TRAINING_DIR + '/fiches', 'fiches à imprimer')} ;",
            f"- les {doc_link(tr.TRAINING_DIR + '/quiz', 'quiz d’auto-évaluation')} ;",
            f"- les {doc_link(tr.TRAINING_DIR + '/modeles', 'modèles de documents')} à distribuer ;",
            f"- les {doc_link(tr.TRAINING_DIR + '/profils', 'parcours par profil')} des participants.", ""]
    return "\n".join(out)


def _qpv_section(training: tr.Training, d: dict) -> list[str]:
    from dataquartiers import data as dq_data

    folder = training.root / "datasets"
    city = d["ville"]
    qpv = dq_data.load("qpv2024_communes", territory=d["commune"], folder=folder)
    qpv = qpv.drop_duplicates("code_qp").sort_values("code_qp")
    around = dq_data.load("qpv2024_communes", territory=d["intercommunalite"], folder=folder).drop_duplicates("code_qp")
    epci = dq_data.load("epci", folder=folder).set_index("siren_epci")
    epci_name = epci["nom"].get(d["intercommunalite"], d["intercommunalite"]) if "nom" in epci.columns else d["intercommunalite"]
    out = [f"## Les quartiers prioritaires de {md(city)} (géographie 2024)", "",
           f"{len(qpv)} quartiers prioritaires dans la liste nationale de 2024 pour la commune, {len(around)} dans "
           f"l'intercommunalité ({md(epci_name)}). Source : {{ref}}`la liste des QPV 2024 <dataset-qpv2024_communes>`, "
           "dont l'agrégation d'origine omet environ 78 des 1 584 quartiers nationaux : vérifiez la liste de la "
           "ville auprès de l'ANCT avant la session. Les codes `QN…` (2024) ne se comparent pas aux codes `QP…` (2015).",
           "", "| Code | Quartier |", "|---|---|"]
    out += [f"| `{md(r.code_qp)}` | {md(r.lib_qp)} |" for r in qpv.itertuples()]
    others = around[~around["code_qp"].isin(qpv["code_qp"])].sort_values(["lib_com", "code_qp"])
    if len(others):
        out += ["", f"````{{dropdown}} Les {len(others)} autres quartiers de l'intercommunalité",
                "| Code | Quartier | Commune |", "|---|---|---|"]
        out += [f"| `{md(r.code_qp)}` | {md(r.lib_qp)} | {md(r.lib_com)} |" for r in others.itertuples()]
        out += ["````"]
    return out + [""]


def _partners_section(app: Sphinx, d: dict) -> list[str]:
    from .catalogue import load_catalogue
    from .catalogue.model import label

    cat = getattr(app, "dq_catalogue", None) or load_catalogue(app.srcdir)
    wanted = {t.casefold() for t in d["territoires_annuaire"]}
    local, national = [], 0
    for entry in cat.valid_partners():
        places = {str(t).casefold() for t in entry.data.get("territories", [])}
        if places & wanted:
            local.append(entry)
        elif "france entière" in places:
            national += 1
    out = [f"## Les partenaires de l'annuaire près de {md(d['ville'])}", ""]
    if local:
        out += ["| Organisation | Rôles | Ce qu'elle apporte |", "|---|---|---|"]
        for entry in sorted(local, key=lambda e: e.data["name"]):
            roles = ", ".join(label("partner", "roles", r).lower() for r in entry.data.get("roles", []))
            out.append(f"| {md_link(entry.data['name'], entry.data.get('website'))} | {md(roles)} | {md(entry.data['brings'])} |")
    else:
        out += [f"Aucun partenaire de l'annuaire n'intervient encore sur ce territoire (recherché : "
                f"{md(', '.join(d['territoires_annuaire']))}). Les structures locales (centre de ressources politique de "
                f"la ville, service données de la collectivité, agence d'urbanisme) s'ajoutent en suivant "
                f"{doc_link('catalogue/guide', 'le guide de mise à jour')}."]
    out += ["", f"S'y ajoutent {national} organisations qui interviennent dans toute la France : voir "
                f"{doc_link('catalogue/partenaires', 'l’annuaire des partenaires')}.", ""]
    return out


def _room_checklist(d: dict) -> list[str]:
    network = {
        "oui": "La salle a un réseau : vérifiez qu'il laisse passer le site du livre. Gardez tout de même le "
               "{doc}`kit hors ligne </chapters/kit-hors-ligne>` sur une clé, au cas où.",
        "non": "La salle n'a pas de réseau : préparez le {doc}`kit hors ligne </chapters/kit-hors-ligne>` "
               "(le site et sa copie de Pyodide) et testez-le la veille sur l'ordinateur qui le servira.",
        "incertain": "Le réseau de la salle n'est pas garanti : préparez le {doc}`kit hors ligne "
                     "</chapters/kit-hors-ligne>` et testez les deux façons de faire.",
    }[d["reseau"]]
    ours = [network,
            "Un vidéoprojecteur et son câble (HDMI ou USB-C) pour l'ordinateur de la personne qui anime.",
            "Aucun compte à créer : les labs s'ouvrent dans le navigateur ou depuis leur archive, sans inscription.",
            f"Les {doc_link(tr.TRAINING_DIR + '/fiches', 'fiches des labs')} imprimées, une par participant."]
    return [f"- {item}" for item in ours] + [f"- {md(item)}" for item in d["salle"]]


# --- the facilitator notes ------------------------------------------------------------------

def render_notes(training: tr.Training, stem: str) -> str:
    notes = training.notes[stem]
    d, lab = notes.data, notes.lab
    assessment = training.assessments.get(stem, {})
    principles = assessment.get("principles", {}) if isinstance(assessment, dict) else {}
    out = [f"({stem}-animation)=", f"## {md(lab.title)}", "",
           f"{doc_link('labs/' + stem, 'Ouvrir le lab')} · durée annoncée : {tr.duration_fr(lab.duration or 0)} · "
           f"parcours court : {tr.duration_fr(notes.minutes('court'))}.", "", f"**Objectif.** {md(d['objectif'])}", "",
           "### Minutage", "", "| Étape | Durée | Conseils |", "|---|---|---|"]
    for step in d["etapes"]:
        flag = " *(facultative)*" if step.get("facultative") else ""
        out.append(f"| {md(step['titre'])}{flag} | {tr.duration_fr(step['minutes'])} | {md_code(step.get('conseils', ''), table=True)} |")
    out += [f"| **Total** | **{tr.duration_fr(notes.minutes())}** | |", "", "### Réponses attendues", ""]
    for i, (said, answer) in enumerate(zip(lab.exercises, d["exercices"]), start=1):
        out += [f"{i}. *{md_code(said)}*", "", f"   {md_code(answer['attendu'])}", ""]
    out += ["### Les erreurs fréquentes", "", "| Erreur | Que faire |", "|---|---|"]
    out += [f"| {md_code(e['erreur'], table=True)} | {md_code(e['remede'], table=True)} |" for e in d["erreurs"]]
    out += ["", "### Questions pour le débriefing", ""] + [f"- {md_code(q)}" for q in d["debriefing"]]
    out += ["", "### Discussion éthique", "",
            f"Les pistes partent de {{ref}}`l'évaluation éthique du lab <ethics-assessment-{stem}>` : la note (sur 4) "
            "et ce qu'elle relève.", "", "| Principe | Note | Ce que dit l'évaluation | Question à poser |", "|---|---|---|---|"]
    for prompt in d["ethique"]:
        entry = principles.get(prompt["principe"], {}) if isinstance(principles, dict) else {}
        score = entry.get("score", "–") if isinstance(entry, dict) else "–"
        said = entry.get("to_improve") or entry.get("justification", "") if isinstance(entry, dict) else ""
        out.append(f"| {md(training.charter.get(prompt['principe'], prompt['principe']))} | {score} | {md(said)} "
                   f"| {md(prompt['question'])} |")
    risks = [r for r in assessment.get("risks", []) or [] if isinstance(r, dict) and r.get("status") in ("open", "partial")]
    if risks:
        out += ["", "Risques que l'évaluation laisse ouverts ou en partie traités, à évoquer :", ""]
        out += [f"- {md(r.get('risk', ''))}" for r in risks]
    return "\n".join(out + [""])


def render_profiles(training: tr.Training) -> str:
    out = []
    for profile in training.profiles:
        total = sum(s.get("minutes", 0) for s in profile["parcours"])
        out += [f"({profile['id']})=", f"## {md(profile['titre'])}", "", f"**Pour qui.** {md(profile['qui'])}", "",
                f"**Objectif.** {md(profile['objectif'])}", "", f"**Parcours** (environ {tr.duration_fr(total)}) :", ""]
        for i, step in enumerate(profile["parcours"], start=1):
            time = f" ({tr.duration_fr(step['minutes'])})" if step.get("minutes") else ""
            out.append(f"{i}. {doc_link(step['page'])}{time} — {md(step['pourquoi'])}")
        out.append("")
    return "\n".join(out)


# --- directives in the committed pages ------------------------------------------------------

class _GeneratedMarkdown(SphinxDirective):
    """Render generated MyST at the directive's place (sections included)."""

    def markdown(self) -> str:
        raise NotImplementedError

    def run(self):
        training = _training(self.env.app)
        _note_inputs(self.env, training.inputs())
        container = nodes.container(classes=["dq-genere"])
        content = StringList(self.markdown().splitlines(), source=self.env.docname)
        nested_parse_with_titles(self.state, content, container)
        return container.children


class AnimationDirective(_GeneratedMarkdown):
    """```{dq-animation}``` — the facilitator notes of every lab, in the order of the labs."""

    def markdown(self):
        training = _training(self.env.app)
        return "\n".join(render_notes(training, p.stem) for p in training.labs if p.stem in training.notes)


class ProfilesDirective(_GeneratedMarkdown):
    """```{dq-profils}``` — the learner profiles of training/profils.yml."""

    def markdown(self):
        return render_profiles(_training(self.env.app))


class ContentsDirective(_GeneratedMarkdown):
    """```{dq-sommaire} sessions|quiz|modeles``` — a table of the pages of that kind."""

    required_arguments = 1

    def markdown(self):
        training = _training(self.env.app)
        kind = self.arguments[0]
        if kind == "sessions":
            lines = ["| Ville | Réseau dans la salle | Quartiers prioritaires 2024 |", "|---|---|---|"]
            from dataquartiers import data as dq_data

            for s in training.sessions.values():
                qpv = dq_data.load("qpv2024_communes", territory=s.data["commune"], folder=training.root / "datasets")
                lines.append(f"| {doc_link(f'{tr.SESSIONS_DIR}/{s.id}', s.data['ville'])} | {md(s.data['reseau'])} "
                             f"| {qpv['code_qp'].nunique()} |")
            return "\n".join(lines)
        if kind == "quiz":
            order = tr.method_chapters(training.root) + [f"labs/{p.stem}" for p in training.labs]
            quizzes = sorted(training.quizzes.values(), key=lambda q: order.index(q.data["porte_sur"])
                             if q.data["porte_sur"] in order else len(order))
            lines = ["| Quiz | Porte sur | Questions |", "|---|---|---|"]
            lines += [f"| {doc_link(f'{tr.QUIZ_DIR}/{q.id}', q.data['titre'])} | {doc_link(q.data['porte_sur'])} "
                      f"| {len(q.data['questions'])} |" for q in quizzes]
            return "\n".join(lines)
        if kind == "modeles":
            lines = ["| Modèle | Étapes de la méthode | Qui le remplit |", "|---|---|---|"]
            for t in training.templates.values():
                steps = ", ".join(f"{n} ({METHOD_STEPS[n]})" for n in t.data["etape_methode"])
                lines.append(f"| {doc_link(f'{tr.TEMPLATES_DIR}/{t.id}', t.data['titre'])} | {steps} | {md(t.data['pour_qui'])} |")
            return "\n".join(lines)
        raise self.error(f"dq-sommaire : « {kind} » inconnu (sessions, quiz ou modeles)")


class HandoutsDirective(SphinxDirective):
    """```{dq-fiches}``` — the table of the printable handouts (PDF files written after the HTML)."""

    def run(self):
        training = _training(self.env.app)
        _note_inputs(self.env, training.labs)
        here = posixpath.dirname(self.env.docname)
        table = _table(["Fiche", "Contenu", "Fichier"])
        body = table.children[0].children[-1]
        missing = "pas faite par cette construction : Chromium manquait sur la machine qui a construit le site"
        for notebook in training.labs:
            title = training.notes[notebook.stem].lab.title if notebook.stem in training.notes else notebook.stem
            if self.config.dq_fiches_pdf:
                # a link named by what it gives, not by its file name (also what the search shows)
                pdf = nodes.reference("", f"fiche « {title} » (PDF)",
                                      refuri=posixpath.relpath(f"{HANDOUTS_DIR}/{notebook.stem}.pdf", here))
            else:
                pdf = nodes.inline("", missing)
            body += _row([nodes.Text(title), nodes.Text("les étapes et les exercices, sans les solutions"), pdf])
        if self.config.dq_livre_pdf:
            book = nodes.reference("", "le livre entier (PDF)", refuri=posixpath.relpath(f"{HANDOUTS_DIR}/{BOOK_PDF}", here))
        elif self.config.dq_fiches_pdf:
            book = nodes.inline("", "pas fait par cette construction : « make handouts » le fait (environ une minute)")
        else:
            book = nodes.inline("", missing)
        body += _row([nodes.Text("Le livre entier"), nodes.Text("toutes les pages, dans l'ordre de la table des matières"),
                      book])
        return [table]


def _table(headers: list[str]) -> nodes.table:
    group = nodes.tgroup(cols=len(headers))
    group += [nodes.colspec(colwidth=1) for _ in headers]
    head = nodes.thead("", _row([nodes.Text(h) for h in headers]))
    group += [head, nodes.tbody()]
    return nodes.table("", group)


def _row(cells: list) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        row += nodes.entry("", nodes.paragraph("", "", cell))
    return row


# --- a quiz ---------------------------------------------------------------------------------

class quiz(nodes.General, nodes.Element):
    """The whole quiz: a form of questions and a live score."""


class quiz_question(nodes.General, nodes.Element):
    """One question: a fieldset of radio buttons, a check button, a live result, the correction."""


class quiz_legend(nodes.General, nodes.TextElement):
    pass


class quiz_choice(nodes.General, nodes.TextElement):
    """A radio button and its label; `feedback` (a child container) shows when it is checked."""


class quiz_correction(nodes.General, nodes.Element):
    """The correction of a question, readable without JavaScript (a <details> element)."""


def _link_node(link: dict) -> nodes.Node:
    from sphinx.addnodes import pending_xref

    if link.get("page"):
        ref = pending_xref("", refdomain="std", reftype="doc", reftarget=f"/{link['page']}", refexplicit=True,
                           refwarn=True)
    else:
        ref = pending_xref("", refdomain="std", reftype="ref", reftarget=link["ancre"], refexplicit=True, refwarn=True)
    ref += nodes.inline("", link["texte"])
    return ref


def quiz_nodes(q: tr.Quiz) -> nodes.Node:
    root = quiz(ids=[f"quiz-{q.id}"], quiz_id=q.id, total=len(q.data["questions"]))
    for qi, question in enumerate(q.data["questions"], start=1):
        qid = f"{q.id}-q{qi}"
        node = quiz_question(ids=[qid], qid=qid, number=qi)
        node += quiz_legend("", f"{qi}. {question['question']}")
        right = None
        for ci, choice in enumerate(question["choix"], start=1):
            c = quiz_choice("", choice["texte"], qid=qid, value=str(ci), correct=bool(choice.get("juste")))
            c += nodes.container("", nodes.paragraph("", choice["retour"]), classes=["dq-retour"])
            node += c
            if choice.get("juste"):
                right = choice
        explanation = nodes.container("", classes=["dq-explication"])
        explanation += nodes.paragraph("", question["explication"])
        links = nodes.paragraph("", "Pour en savoir plus : ")
        for li, link in enumerate(question["liens"]):
            if li:
                links += nodes.Text(" ; ")
            links += _link_node(link)
        explanation += links
        correction = quiz_correction()
        correction += nodes.paragraph("", "", nodes.strong("", "Bonne réponse : "), nodes.Text(right["texte"] if right else "—"))
        listing = nodes.bullet_list()
        for choice in question["choix"]:
            listing += nodes.list_item("", nodes.paragraph("", "", nodes.emphasis("", choice["texte"]),
                                                           nodes.Text(" — " + choice["retour"])))
        correction += listing
        correction += explanation  # the script shows it under the result once a choice is checked
        node += correction
        root += node
    return root


def render_quiz_intro(q: tr.Quiz) -> str:
    n = len(q.data["questions"])
    return "\n".join([
        f"# {md(q.data['titre'])}", "", md_paragraphs(q.data["introduction"]), "",
        f"Ce quiz de {n} questions porte sur {doc_link(q.data['porte_sur'])}. Choisissez une réponse puis « Vérifier » : "
        "le retour s'affiche sous la question. Rien n'est enregistré ni envoyé. Au clavier : Tab pour passer d'une "
        "question à l'autre, les flèches pour choisir, Entrée sur « Vérifier ». La correction complète de chaque "
        "question est aussi dans « Voir la correction ».", ""])


def _visit_quiz(self, node):
    self.body.append(self.starttag(node, "form", CLASS="dq-quiz", **{"data-total": node["total"],
                                                                      "aria-label": "Quiz d'auto-évaluation"}))


def _depart_quiz(self, node):
    self.body.append('<p class="dq-score" role="status" aria-live="polite"></p>\n</form>\n')


def _visit_question(self, node):
    self.body.append(self.starttag(node, "fieldset", CLASS="dq-question"))


def _depart_question(self, node):
    self.body.append("</fieldset>\n")


def _visit_legend(self, node):
    self.body.append(self.starttag(node, "legend", ""))


def _depart_legend(self, node):
    self.body.append("</legend>\n")


def _visit_choice(self, node):
    qid, value = self.attval(node["qid"]), self.attval(node["value"])
    cid = f"{qid}-c{value}"
    right = ' data-juste="oui"' if node["correct"] else ""
    self.body.append('<div class="dq-choix">')
    self.body.append(f'<input type="radio" name="{qid}" value="{value}" id="{cid}"{right}>')
    self.body.append(f'<label for="{cid}">')
    self.body.append(self.encode(node.astext() if not node.children else node.children[0].astext()))
    self.body.append("</label>")
    # the feedback container is written hidden; the script shows the one of the checked choice
    for child in node.children[1:]:
        self.body.append('<div class="dq-retour" hidden>')
        for para in child.children:
            self.body.append(f"<p>{self.encode(para.astext())}</p>")
        self.body.append("</div>")
    self.body.append("</div>\n")
    raise nodes.SkipNode


def _visit_correction(self, node):
    question = node.parent
    qid = self.attval(question["qid"])
    self.body.append(f'<button type="button" class="dq-verifier" aria-describedby="{qid}-resultat">Vérifier</button>\n')
    self.body.append(f'<div class="dq-resultat" id="{qid}-resultat" role="status" aria-live="polite"></div>\n')
    self.body.append('<details class="dq-correction"><summary>Voir la correction</summary>\n')


def _depart_correction(self, node):
    self.body.append("</details>\n")


def _add_quiz_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if doctree is not None and any(True for _ in doctree.findall(quiz)):
        app.add_css_file(f"{STATIC_OUT}/dq-quiz.css")
        app.add_js_file(f"{STATIC_OUT}/dq-quiz.js")


# --- a template page ------------------------------------------------------------------------

def render_template_page(app: Sphinx, template: tr.Template) -> tuple[str, list, list]:
    training = _training(app)
    d = template.data
    steps = ", ".join(f"{n} ({METHOD_STEPS[n]})" for n in d["etape_methode"])
    out = [f"# {md(d['titre'])}", "", "```{warning}", f"{md(REVIEW_NOTICE)}. Ce modèle propose une rédaction ; il ne "
           "constitue pas un conseil juridique. Les textes cités évoluent : vérifiez leur version en vigueur.", "```", "",
           "## Où il sert dans la méthode", "",
           f"Étapes {steps} de {doc_link('chapters/methode', 'la méthode pas à pas')}. {md(d['usage'])}", "",
           f"**Qui le remplit.** {md(d['pour_qui'])}", "", "## Les textes sur lesquels il repose", "",
           "| Texte | Articles | Ce que le modèle en tire |", "|---|---|---|"]
    unverified = []
    for ref in d["references"]:
        text = training.legal[ref["texte"]]
        if text.get("adresse"):
            cited = md_link(text["nom"], text["adresse"])
        else:
            cited = md(text["nom"])
            if text.get("presentation"):
                cited += f" ({md_link(text['presentation']['texte'], text['presentation']['adresse'])})"
            unverified.append(text["nom"])
        out.append(f"| {cited} | {md(ref['articles'])} | {md(ref['pourquoi'])} |")
    if unverified:
        out += ["", "Sans lien vers le texte lui-même, faute d'adresse vérifiée : " + "; ".join(md(t) for t in unverified)
                + ". Cherchez-le sur Légifrance."]
    out += ["", "## Télécharger", "",
            "Le même texte en trois formats : Markdown (tout éditeur de texte), OpenDocument (LibreOffice) et Word.", ""]
    blocks = parse_markdown(template.text_path.read_text(encoding="utf-8"), str(template.text_path),
                            set(training.legal_urls()))
    here = posixpath.dirname(f"{tr.TEMPLATES_DIR}/{template.id}")
    downloads = nodes.bullet_list(classes=["dq-telechargements"])
    for ext, what in (("odt", "OpenDocument (.odt)"), ("docx", "Word (.docx)"), ("md", "Markdown (.md)")):
        href = posixpath.relpath(f"{TEMPLATE_FILES_DIR}/{template.id}.{ext}", here)
        downloads += nodes.list_item("", nodes.paragraph("", "", nodes.reference("", f"{template.id}.{ext}", refuri=href),
                                                         nodes.Text(f" — {what}")))
    used: set[str] = set()

    def section_id(title: str) -> str:
        base = "modele-" + (nodes.make_id(title) or "partie")
        n, candidate = 1, base
        while candidate in used:
            n += 1
            candidate = f"{base}-{n}"
        used.add(candidate)
        return candidate

    text_section = nodes.section(ids=["texte-du-modele"], names=["le texte du modèle"])
    text_section += nodes.title("", "Le texte du modèle")
    text_section += to_docutils(blocks, section_id)
    # The downloads list ends the « Télécharger » part the MyST source opened; the text follows it.
    return "\n".join(out), [text_section], [downloads]


def write_template_files(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    training = _training(app)
    out = Path(app.outdir) / TEMPLATE_FILES_DIR
    out.mkdir(parents=True, exist_ok=True)
    for template in training.templates.values():
        text = template.text_path.read_text(encoding="utf-8")
        blocks = parse_markdown(text, str(template.text_path), set(training.legal_urls()))
        (out / f"{template.id}.md").write_text(text, encoding="utf-8")
        (out / f"{template.id}.docx").write_bytes(to_docx(blocks))
        (out / f"{template.id}.odt").write_bytes(to_odt(blocks))


def _copy_static(app: Sphinx, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / STATIC_OUT
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(STATIC_DIR, target)


def setup_sphinx(app: Sphinx) -> None:
    for parser, suffix in ((SessionParser, tr.SESSION_SUFFIX), (QuizParser, tr.QUIZ_SUFFIX),
                           (TemplateParser, tr.TEMPLATE_SUFFIX)):
        app.add_source_suffix(suffix, parser.supported[0])
        app.add_source_parser(parser)
    app.connect("builder-inited", _on_builder_inited)
    app.add_directive("dq-animation", AnimationDirective)
    app.add_directive("dq-profils", ProfilesDirective)
    app.add_directive("dq-sommaire", ContentsDirective)
    app.add_directive("dq-fiches", HandoutsDirective)
    app.add_node(quiz, html=(_visit_quiz, _depart_quiz))
    app.add_node(quiz_question, html=(_visit_question, _depart_question))
    app.add_node(quiz_legend, html=(_visit_legend, _depart_legend))
    app.add_node(quiz_choice, html=(_visit_choice, None))
    app.add_node(quiz_correction, html=(_visit_correction, _depart_correction))
    app.connect("html-page-context", _add_quiz_assets)
    app.connect("build-finished", write_template_files)
    app.connect("build-finished", _copy_static)
    training_handouts.setup_sphinx(app)
