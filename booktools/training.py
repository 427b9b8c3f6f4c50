"""The training part of the book (« Former »): sessions, facilitator notes, quizzes, templates, profiles.

Everything is data, edited by facilitators and resource-centre staff, and checked here with French
messages that name the file, the field and what is expected:

- `training/sessions/<ville>.session.yml` — one file per training city: it *is* the city's page
  (booktools/training_pages.py renders it); the two programmes (half-day, full day) must add up to
  their slot, and a lab step lasts what the lab's facilitator notes say;
- `labs/<lab>.animation.yml` — the facilitator notes of a lab, kept beside it and never in the
  trainee's notebook: timing of each step (they add up to the lab's stated duration and cover every
  « Étape » of the notebook), the expected answer to each exercise, usual mistakes, debrief
  questions, ethics prompts tied to the lab's assessment (`labs/<lab>.ethics.yml`);
- `training/quiz/<id>.quiz.yml` — a self-check quiz (one per method chapter and per lab): 5–8
  questions, exactly one right answer each, a feedback per choice, links that resolve;
- `training/modeles/<id>.modele.yml` + `training/modeles/textes/<id>.md` — a template to download
  (Markdown, .odt, .docx), with the legal texts it rests on, taken from
  `training/textes-juridiques.yml` (the only place a legal address is written, with how it was
  verified);
- `training/profils.yml` — the three learner profiles and what each follows, in which order.

    python -m booktools.training check      # every problem of every file, exit 1 if any

YAML is read with bounds (size, no aliases) and only three implicit types: whole numbers, true/false
and null; everything else stays text (`09:00` is not 540, `2026-03-12` is not a date).
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

from dataquartiers.cli import ArgumentParser

from . import REPO_DIR, TOOLS_DIR, notebooks
from .catalogue.yamlfile import note_duplicate_keys

TRAINING_DIR = "training"
SESSIONS_DIR = f"{TRAINING_DIR}/sessions"
QUIZ_DIR = f"{TRAINING_DIR}/quiz"
TEMPLATES_DIR = f"{TRAINING_DIR}/modeles"
PROFILES_FILE = f"{TRAINING_DIR}/profils.yml"
LEGAL_FILE = f"{TRAINING_DIR}/textes-juridiques.yml"
SESSION_SUFFIX = ".session.yml"
QUIZ_SUFFIX = ".quiz.yml"
TEMPLATE_SUFFIX = ".modele.yml"
NOTES_SUFFIX = ".animation.yml"
ETHICS_SUFFIX = ".ethics.yml"
CHARTER_FILE = "ethics-charter/charter.yml"
SCHEMA_FILE = TOOLS_DIR / "schemas" / "training.schema.json"

#: Bounds on what a data file may be (they are edited by hand, in a browser editor too).
MAX_BYTES = 200_000
HALF_DAY_MINUTES = 180
#: The slots of a full day, lunch included.
FULL_DAY_MINUTES = (360, 540)
#: The first exercises section of a lab, and the block that holds its solutions.
EXERCISES_HEADING = "## À vous de jouer"
SOLUTION_FENCE = "```{admonition} Solution"


class TrainingError(ValueError):
    """A training file cannot be used; the message is French and names the file and the field."""


# --- bounded YAML, French messages ----------------------------------------------------------

class _Loader(yaml.SafeLoader):
    """Safe loader: no alias (no « billion laughs »), keys written twice noted, few implicit types."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, "les alias (*nom) ne sont pas acceptés : recopiez le texte", event.start_mark)
        return super().compose_node(parent, index)


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same rules on libyaml's parser, many times faster: used first, for files without an alias
    (checked beforehand by scanning) nor a syntax error (the pure loader then gives the message)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []


for _cls in (_Loader, _FastLoader):
    _cls.yaml_implicit_resolvers = {}
    _cls.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^-?[0-9]+$"), list("-0123456789"))
    _cls.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))
    _cls.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^(?:~|null|)$"), ["~", "n", ""])
    _cls.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, note_duplicate_keys)

_SYNTAX_HINTS = [
    ("mapping values are not allowed", "un texte qui contient « : » doit être mis entre guillemets"),
    ("cannot start any token", "les tabulations ne sont pas permises : indentez avec des espaces"),
    ("could not find expected ':'", "une ligne n'a pas la forme « champ: valeur », ou un guillemet n'est pas fermé"),
    ("did not find expected key", "vérifiez l'indentation : les champs d'un même niveau commencent à la même colonne"),
    ("found unexpected end of stream", "un guillemet ou un crochet n'est pas fermé"),
    ("expected <block end>", "vérifiez l'indentation : les champs d'un même niveau commencent à la même colonne"),
]


def parse_yaml(text: str, shown: str):
    """YAML text → data. Raises TrainingError (French, with the line) on any problem."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise TrainingError(f"{shown} : fichier trop gros (plus de {MAX_BYTES // 1000} ko) ; "
                            "un fichier de formation tient en quelques pages")
    try:
        if not any(isinstance(token, yaml.AliasToken) for token in yaml.scan(text, Loader=_FastLoader)):
            fast = _FastLoader(text)
            try:
                data = fast.get_single_data()
            finally:
                fast.dispose()
            return _without_duplicates(data, fast, shown)
    except yaml.YAMLError:
        pass  # the pure-Python loader below says where and why
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        what = err.problem or err.context or "YAML invalide"
        # PyYAML's own words are English: only the French hint, or a French rule, reaches the reader
        hint = next((h for key, h in _SYNTAX_HINTS if key in what), None) or (
            what if what.startswith("les alias") else "vérifiez les guillemets, les deux-points et l'indentation de cette ligne")
        where = f"ligne {mark.line + 1}, colonne {mark.column + 1} : " if mark else ""
        raise TrainingError(f"{shown} : {where}erreur de syntaxe YAML ; {hint}") from None
    except yaml.YAMLError:
        raise TrainingError(f"{shown} : erreur de syntaxe YAML ; vérifiez les guillemets, les deux-points et "
                            "l'indentation") from None
    finally:
        loader.dispose()
    return _without_duplicates(data, loader, shown)


def _without_duplicates(data, loader, shown: str):
    if loader.duplicates:
        key, line = loader.duplicates[0]
        raise TrainingError(f"{shown} : ligne {line} : le champ « {key} » est écrit deux fois (n'en gardez qu'un)")
    return data


def read_yaml(path: Path, shown: str):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TrainingError(f"{shown} : fichier introuvable") from None
    except UnicodeDecodeError:
        raise TrainingError(f"{shown} : le fichier n'est pas en UTF-8 (enregistrez-le en UTF-8)") from None
    return parse_yaml(text, shown)


@lru_cache(maxsize=1)
def _schema() -> dict:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _validator(definition: str) -> Draft202012Validator:
    schema = dict(_schema())
    schema["$ref"] = f"#/$defs/{definition}"
    return Draft202012Validator(schema)


_TYPES = {"string": "un texte", "integer": "un nombre entier", "number": "un nombre", "boolean": "true ou false",
          "array": "une liste (une ligne par élément, précédée d'un tiret)", "object": "des champs « nom: valeur »",
          "null": "rien"}


def _kind(value) -> str:
    if value is None:
        return "rien"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "un nombre"
    if isinstance(value, str):
        return "un texte"
    if isinstance(value, list):
        return "une liste"
    return "des champs"


def _dotted(path) -> str:
    out = ""
    for part in path:
        out += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _expected(schema: dict) -> str:
    return schema.get("x-attendu") or _TYPES.get(schema.get("type"), "une autre valeur")


def _message(err) -> str:
    where = _dotted(err.absolute_path)
    field_ = f"champ « {where} »" if where else "le fichier"
    v, schema = err.validator, err.schema
    if v == "required":
        missing = err.message.split("'")[1]
        sub = schema.get("properties", {}).get(missing, {})
        inside = f" dans « {where} »" if where else ""
        return f"champ « {missing} » manquant{inside} (attendu : {_expected(sub)})"
    if v == "additionalProperties":
        known = ", ".join(sorted(schema.get("properties", {})))
        extra = sorted(set(err.instance) - set(schema.get("properties", {})))
        return f"{field_} : champ inconnu « {', '.join(map(str, extra))} » (champs possibles : {known})"
    if v == "type":
        return f"{field_} : attendu {_expected(schema)}, trouvé {_kind(err.instance)}"
    if v == "enum":
        values = ", ".join(f"« {x} »" for x in schema["enum"])
        return f"{field_} : « {err.instance} » n'est pas permis (valeurs possibles : {values})"
    if v in ("minLength", "maxLength", "pattern", "minimum", "maximum"):
        return f"{field_} : « {str(err.instance)[:80]} » ne convient pas (attendu : {_expected(schema)})"
    if v in ("minItems", "maxItems"):
        return f"{field_} : {len(err.instance)} élément(s) ne convient pas (attendu : {_expected(schema)})"
    if v == "oneOf":
        return f"{field_} : attendu {_expected(schema)} (l'un des deux, pas les deux)"
    return f"{field_} : valeur refusée (attendu : {_expected(schema)})"  # pragma: no cover - other keywords unused


def validate(data, definition: str, shown: str) -> list[str]:
    """French messages, one per problem, for `data` against a definition of training.schema.json."""
    errors = sorted(_validator(definition).iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    return [f"{shown} : {_message(e)}" for e in errors]


def shown_path(path: Path, root: Path) -> str:
    return notebooks.shown_path(path, root)


# --- times -------------------------------------------------------------------------------

def minutes_of(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def clock(total_minutes: int) -> str:
    """540 → "9 h 00" (French style)."""
    return f"{total_minutes // 60} h {total_minutes % 60:02d}"


def duration_fr(minutes: int) -> str:
    """75 → "1 h 15", 45 → "45 min", 120 → "2 h"."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


# --- the labs, as the notes need them --------------------------------------------------------

@dataclass
class LabText:
    """What the facilitator notes are checked against: the notebook's own words."""

    stem: str
    title: str
    duration: int | None  # minutes, from « **Durée** : … »
    sections: list[str]  # the « ## » headings, in order
    exercises: list[str]  # the numbered items of « À vous de jouer »
    solution: str  # the text of the Solution block(s)
    solution_code: list[str]  # the ~~~python blocks of the Solution block(s)

    @property
    def steps(self) -> list[str]:
        """The « Étape … » sections: what the notes must time."""
        return [s for s in self.sections if s.startswith("Étape")]


def parse_duration(text: str) -> int | None:
    """« **Durée** : 1 heure 15. » → 75; « 45 minutes » → 45."""
    m = re.search(r"\*\*Durée\*\*\s*:\s*([^\n]+)", text)
    if not m:
        return None
    said = m.group(1)
    hours = re.search(r"(\d+)\s*h(?:eures?)?\b(?:\s*(\d+))?", said)
    if hours:
        return int(hours.group(1)) * 60 + int(hours.group(2) or 0)
    mins = re.search(r"(\d+)\s*min", said)
    return int(mins.group(1)) if mins else None


def lab_text(notebook: Path) -> LabText:
    nb = notebooks.read(notebook)
    markdown = [notebooks.source(c) for c in nb["cells"] if c.get("cell_type") == "markdown"]
    full = "\n\n".join(markdown)
    sections = [line[3:].strip() for line in full.splitlines() if line.startswith("## ")]
    exercises, solution, code = [], "", []
    for text in markdown:
        if EXERCISES_HEADING in text:
            body = text.split(EXERCISES_HEADING, 1)[1]
            before, _, after = body.partition(SOLUTION_FENCE)
            exercises = [m.group(1).strip() for m in re.finditer(r"^\d+\.\s+(.*(?:\n {2,}\S.*)*)", before, re.M)]
            solution = after.split("\n```", 1)[0] if after else ""
            for block in re.finditer(r"~~~python\n(.*?)~~~", solution, re.S):
                code.append(textwrap.dedent(block.group(1)))  # the admonition's indent, as a whole
            break
    return LabText(notebook.stem, notebooks.title(nb, notebook.stem), parse_duration(full), sections, exercises,
                   solution, code)


# --- the labs' coverage of a training city --------------------------------------------------

def lab_coverage(sessions: dict, rows=()) -> dict:
    """What each lab can do in the commune of each session: (lab, commune) → a row of
    booktools/coverage.py (`status` among `coverage.STATUSES`, `reason` in French).

    The rows are those of the labs index page (`coverage.cached_coverage`, which the build keeps),
    given as `rows`; a session city missing from them (a new session file) is worked out here
    with the same `coverage.coverage()`, so a new city is still one file.
    """
    from . import coverage

    rows = list(rows)
    known = {r.code for r in rows}
    missing = sorted({(s.data["ville"], s.data["commune"], s.data["intercommunalite"]) for s in sessions.values()
                      if s.data["commune"] not in known})
    if missing:
        rows += coverage.coverage(missing)
    return {(r.lab, r.code): r for r in rows if r.level == "commune"}


# --- what is read, checked -----------------------------------------------------------------

@dataclass
class Step:
    title: str
    minutes: int
    kind: str
    start: int  # minutes since midnight
    page: str | None = None
    lab: str | None = None
    track: str = "complet"
    instructions: str = ""


@dataclass
class Programme:
    start: int
    end: int
    steps: list[Step]


@dataclass
class Session:
    id: str
    path: Path
    data: dict
    half_day: Programme
    full_day: Programme


@dataclass
class LabNotes:
    stem: str
    path: Path
    data: dict
    lab: LabText

    def minutes(self, track: str = "complet") -> int:
        return sum(s["minutes"] for s in self.data["etapes"] if track == "complet" or not s.get("facultative"))


@dataclass
class Quiz:
    id: str
    path: Path
    data: dict


@dataclass
class Template:
    id: str
    path: Path
    data: dict
    text_path: Path


@dataclass
class Training:
    """Everything the training pages need, read and checked."""

    root: Path
    problems: list[str] = field(default_factory=list)
    sessions: dict[str, Session] = field(default_factory=dict)
    notes: dict[str, LabNotes] = field(default_factory=dict)
    quizzes: dict[str, Quiz] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict)
    profiles: list[dict] = field(default_factory=list)
    legal: dict[str, dict] = field(default_factory=dict)
    labs: list[Path] = field(default_factory=list)
    charter: dict = field(default_factory=dict)  # principle id -> title
    assessments: dict[str, dict] = field(default_factory=dict)  # lab stem -> its ethics.yml

    def inputs(self) -> list[Path]:
        """Every file the training pages are made from (for Sphinx's dependencies)."""
        files = [s.path for s in self.sessions.values()] + [n.path for n in self.notes.values()]
        files += [q.path for q in self.quizzes.values()] + [t.path for t in self.templates.values()]
        files += [t.text_path for t in self.templates.values()] + self.labs
        files += [self.root / PROFILES_FILE, self.root / LEGAL_FILE, self.root / CHARTER_FILE]
        return [f for f in files if f.exists()]

    def legal_urls(self) -> list[str]:
        """The only web addresses a template may contain: those of the legal register."""
        urls = []
        for text in self.legal.values():
            urls += [u for u in (text.get("adresse"), text.get("presentation", {}).get("adresse")) if u]
        return urls


def _load(path: Path, definition: str, training: Training):
    shown = shown_path(path, training.root)
    try:
        data = read_yaml(path, shown)
    except TrainingError as err:
        training.problems.append(str(err))
        return None
    errors = validate(data, definition, shown)
    training.problems += errors
    return None if errors else data


def toc_order(root: Path) -> list[str]:
    """The docnames of the book in the order of _toc.yml, each glob's matches sorted as Sphinx sorts
    them: its `file` entries and the source files (md, ipynb, the training data) its globs match."""
    root = Path(root)
    toc = yaml.load((root / "_toc.yml").read_text(encoding="utf-8"), Loader=_SAFE_FAST)
    order: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for key in ("root", "file"):
                if key in node:
                    order.append(re.sub(r"\.(md|ipynb)$", "", node[key]))
            if "glob" in node:
                order.extend(d for d in _glob_docnames(root, node["glob"]) if d not in order)
            for key in ("parts", "chapters", "sections"):
                if key in node:
                    walk(node[key])
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(toc)
    return order


def _glob_docnames(root: Path, pattern: str) -> list[str]:
    found = set()
    for suffix in (".md", ".ipynb", SESSION_SUFFIX, QUIZ_SUFFIX, TEMPLATE_SUFFIX):
        for path in (root / pattern.rsplit("/", 1)[0]).glob(f"*{suffix}"):
            docname = path.relative_to(root).as_posix()[: -len(suffix)]
            if re.fullmatch(pattern.replace("*", "[^/]*"), docname):
                found.add(docname)
    return sorted(found)


def book_pages(root: Path) -> set[str]:
    """The docnames of the book (see toc_order)."""
    return set(toc_order(root))


def book_labels(root: Path) -> set[str]:
    """The explicit targets `(label)=` written in the book's Markdown pages."""
    labels = set()
    for path in Path(root).rglob("*.md"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("_build/", ".venv/", "node_modules/")):
            continue
        labels |= set(re.findall(r"^\(([A-Za-z0-9_-]+)\)=\s*$", path.read_text(encoding="utf-8"), re.M))
    return labels


def _programme(data: dict, what: str, shown: str, training: Training, notes: dict) -> Programme:
    start, end = minutes_of(data["debut"]), minutes_of(data["fin"])
    steps, clock_ = [], start
    for i, raw in enumerate(data["etapes"], start=1):
        where = f"{shown} : {what}.etapes[{i}]"
        step = Step(raw["titre"], raw["minutes"], raw["type"], clock_, raw.get("page"), raw.get("lab"),
                    raw.get("parcours", "complet"), raw.get("consignes", ""))
        clock_ += step.minutes
        if step.kind == "lab":
            if not step.lab:
                training.problems.append(f"{where} : une étape de type « lab » nomme son lab (champ « lab »)")
            elif step.lab not in {p.stem for p in training.labs}:
                known = ", ".join(p.stem for p in training.labs)
                training.problems.append(f"{where} : lab « {step.lab} » inconnu (labs du livre : {known})")
            elif step.lab in notes and notes[step.lab].minutes(step.track) != step.minutes:
                wanted = notes[step.lab].minutes(step.track)
                training.problems.append(
                    f"{where} : le lab « {step.lab} » en parcours {step.track} dure {wanted} min d'après ses notes "
                    f"d'animation (labs/{step.lab}{NOTES_SUFFIX}), pas {step.minutes}")
        elif step.lab:
            training.problems.append(f"{where} : le champ « lab » ne sert qu'aux étapes de type « lab »")
        steps.append(step)
    total = clock_ - start
    if end - start != total:
        training.problems.append(
            f"{shown} : {what} : les étapes durent {total} min ({duration_fr(total)}) mais le créneau "
            f"{data['debut']}–{data['fin']} en compte {end - start} : ajustez une durée ou l'heure de fin")
    return Programme(start, end, steps)


def _check_session(path: Path, training: Training) -> None:
    data = _load(path, "session", training)
    if data is None:
        return
    shown = shown_path(path, training.root)
    half = _programme(data["demi_journee"], "demi_journee", shown, training, training.notes)
    full = _programme(data["journee"], "journee", shown, training, training.notes)
    if half.end - half.start != HALF_DAY_MINUTES:
        training.problems.append(f"{shown} : demi_journee : une demi-journée dure 3 h ({data['demi_journee']['debut']}"
                                 f"–{data['demi_journee']['fin']} en fait {duration_fr(half.end - half.start)})")
    low, high = FULL_DAY_MINUTES
    if not low <= full.end - full.start <= high:
        training.problems.append(f"{shown} : journee : une journée dure de {duration_fr(low)} à {duration_fr(high)}, "
                                 f"repas compris (ici {duration_fr(full.end - full.start)})")
    if not any(s.kind == "repas" for s in full.steps):
        training.problems.append(f"{shown} : journee : prévoyez le repas (une étape de type « repas »)")
    for what, prog in (("demi_journee", half), ("journee", full)):
        for i, step in enumerate(prog.steps, start=1):
            if step.page and step.page not in training_pages_cache(training.root):
                training.problems.append(f"{shown} : {what}.etapes[{i}].page : « {step.page} » n'est pas une page du livre")
    stem = path.name[: -len(SESSION_SUFFIX)]
    training.sessions[stem] = Session(stem, path, data, half, full)


@lru_cache(maxsize=4)
def _pages_cached(root: str) -> frozenset:
    return frozenset(book_pages(Path(root)))


@lru_cache(maxsize=4)
def _labels_cached(root: str) -> frozenset:
    return frozenset(book_labels(Path(root)))


def training_pages_cache(root: Path) -> frozenset:
    return _pages_cached(str(root))


def _check_notes(notebook: Path, training: Training) -> None:
    path = notebook.with_name(notebook.stem + NOTES_SUFFIX)
    shown = shown_path(path, training.root)
    if not path.exists():
        training.problems.append(f"{shown} : fichier manquant : chaque lab a ses notes d'animation "
                                 f"(copiez celles d'un autre lab et adaptez-les)")
        return
    data = _load(path, "animation", training)
    if data is None:
        return
    lab = lab_text(notebook)
    nb_shown = shown_path(notebook, training.root)
    named = [s.get("section") for s in data["etapes"] if s.get("section")]
    for section in named:
        if section not in lab.sections:
            training.problems.append(f"{shown} : étape « {section} » : pas de section « ## {section} » dans {nb_shown}")
    for step in lab.steps:
        if named.count(step) != 1:
            training.problems.append(f"{shown} : la section « {step} » de {nb_shown} doit être minutée par une étape "
                                     f"(champ « section ») et une seule (ici {named.count(step)})")
    total = sum(s["minutes"] for s in data["etapes"])
    if lab.duration is None:
        training.problems.append(f"{nb_shown} : pas de ligne « **Durée** : … » : les notes ne peuvent pas être minutées")
    elif total != lab.duration:
        training.problems.append(f"{shown} : les étapes durent {total} min mais le lab annonce {duration_fr(lab.duration)} "
                                 f"(**Durée** dans {nb_shown})")
    if len(data["exercices"]) != len(lab.exercises):
        training.problems.append(f"{shown} : {len(data['exercices'])} réponse(s) attendue(s) pour {len(lab.exercises)} "
                                 f"exercice(s) dans « À vous de jouer » de {nb_shown} (une par exercice, dans l'ordre)")
    assessment = training.assessments.get(notebook.stem, {})
    scored = assessment.get("principles", {}) if isinstance(assessment, dict) else {}
    for i, prompt in enumerate(data["ethique"], start=1):
        if prompt["principe"] not in training.charter:
            training.problems.append(f"{shown} : ethique[{i}].principe : « {prompt['principe']} » n'est pas un principe "
                                     f"de la charte ({CHARTER_FILE})")
    prompted = {p["principe"] for p in data["ethique"]}
    for pid, entry in scored.items():
        if isinstance(entry, dict) and isinstance(entry.get("score"), int) and entry["score"] <= 2 and pid not in prompted:
            training.problems.append(
                f"{shown} : ethique : le principe « {pid} » a la note {entry['score']} dans "
                f"labs/{notebook.stem}{ETHICS_SUFFIX} : prévoyez une piste de discussion à son sujet")
    training.notes[notebook.stem] = LabNotes(notebook.stem, path, data, lab)


def _check_quiz(path: Path, training: Training) -> None:
    data = _load(path, "quiz", training)
    if data is None:
        return
    shown = shown_path(path, training.root)
    pages = training_pages_cache(training.root)
    labels = _labels_cached(str(training.root))
    if data["porte_sur"] not in pages:
        training.problems.append(f"{shown} : porte_sur : « {data['porte_sur']} » n'est pas une page du livre")
    for qi, q in enumerate(data["questions"], start=1):
        right = sum(1 for c in q["choix"] if c.get("juste") is True)
        if right != 1:
            training.problems.append(f"{shown} : questions[{qi}] : {right} bonne(s) réponse(s) ; il en faut exactement une "
                                     "(« juste: true » sur un seul choix)")
        texts = [c["texte"].strip().lower() for c in q["choix"]]
        if len(set(texts)) != len(texts):
            training.problems.append(f"{shown} : questions[{qi}] : deux choix ont le même texte")
        for li, link in enumerate(q["liens"], start=1):
            if link.get("page") and link["page"] not in pages:
                training.problems.append(f"{shown} : questions[{qi}].liens[{li}] : « {link['page']} » n'est pas une page du livre")
            if link.get("ancre") and link["ancre"] not in labels:
                training.problems.append(f"{shown} : questions[{qi}].liens[{li}] : l'étiquette « {link['ancre']} » "
                                         "n'est définie dans aucune page (écrivez « (etiquette)= » avant un titre)")
    training.quizzes[path.name[: -len(QUIZ_SUFFIX)]] = Quiz(path.name[: -len(QUIZ_SUFFIX)], path, data)


def _check_template(path: Path, training: Training) -> None:
    data = _load(path, "modele", training)
    if data is None:
        return
    shown = shown_path(path, training.root)
    text_path = path.parent / data["texte"]
    if not text_path.exists():
        training.problems.append(f"{shown} : texte : le fichier « {data['texte']} » n'existe pas à côté du modèle")
        return
    from .training_documents import DocumentError, parse_markdown

    try:
        parse_markdown(text_path.read_text(encoding="utf-8"), shown_path(text_path, training.root),
                       set(training.legal_urls()))
    except DocumentError as err:
        training.problems.append(str(err))
        return
    for i, ref in enumerate(data["references"], start=1):
        if ref["texte"] not in training.legal:
            training.problems.append(f"{shown} : references[{i}].texte : « {ref['texte']} » n'est pas dans {LEGAL_FILE} "
                                     f"(textes connus : {', '.join(sorted(training.legal))})")
    stem = path.name[: -len(TEMPLATE_SUFFIX)]
    training.templates[stem] = Template(stem, path, data, text_path)


def _check_profiles(training: Training) -> None:
    path = training.root / PROFILES_FILE
    data = _load(path, "profils", training)
    if data is None:
        return
    shown = shown_path(path, training.root)
    pages = training_pages_cache(training.root)
    ids = [p["id"] for p in data["profils"]]
    if len(set(ids)) != len(ids):
        training.problems.append(f"{shown} : deux profils ont le même identifiant")
    for pi, profile in enumerate(data["profils"], start=1):
        for si, step in enumerate(profile["parcours"], start=1):
            if step["page"] not in pages:
                training.problems.append(f"{shown} : profils[{pi}].parcours[{si}].page : « {step['page']} » "
                                         "n'est pas une page du livre")
    training.profiles = data["profils"]


_SAFE_FAST = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_context(training: Training) -> None:
    """The charter's principles and the labs' assessments, which the notes refer to."""
    root = training.root
    try:
        charter = yaml.load((root / CHARTER_FILE).read_text(encoding="utf-8"), Loader=_SAFE_FAST)
        training.charter = {p["id"]: p["title"] for t in charter["themes"] for p in t["principles"]}
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        training.problems.append(f"{CHARTER_FILE} : illisible ; les pistes éthiques des notes ne peuvent pas être vérifiées")
    for notebook in training.labs:
        path = notebook.with_name(notebook.stem + ETHICS_SUFFIX)
        try:
            training.assessments[notebook.stem] = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_FAST) or {}
        except (OSError, yaml.YAMLError):
            training.assessments[notebook.stem] = {}
    legal = _load(root / LEGAL_FILE, "textesJuridiques", training)
    if legal:
        for text in legal["textes"]:
            if text["id"] in training.legal:
                training.problems.append(f"{LEGAL_FILE} : l'identifiant « {text['id']} » est écrit deux fois")
            training.legal[text["id"]] = text


def load_training(root: Path | str = REPO_DIR) -> Training:
    """Read and check every training file under `root`; problems are French sentences."""
    root = Path(root)
    training = Training(root=root, labs=notebooks.lab_notebooks(root))
    _load_context(training)
    for notebook in training.labs:
        _check_notes(notebook, training)
    for path in sorted((root / SESSIONS_DIR).glob(f"*{SESSION_SUFFIX}")):
        _check_session(path, training)
    for path in sorted((root / QUIZ_DIR).glob(f"*{QUIZ_SUFFIX}")):
        _check_quiz(path, training)
    for path in sorted((root / TEMPLATES_DIR).glob(f"*{TEMPLATE_SUFFIX}")):
        _check_template(path, training)
    _check_profiles(training)
    quizzed = {q.data["porte_sur"] for q in training.quizzes.values()}
    for page in method_chapters(root) + [f"labs/{p.stem}" for p in training.labs]:
        if page not in quizzed:
            training.problems.append(f"{QUIZ_DIR} : pas de quiz pour « {page} » (un quiz par chapitre de la méthode et par lab)")
    return training


def method_chapters(root: Path) -> list[str]:
    """The chapters of the « La méthode » part of _toc.yml, in order."""
    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc.get("parts", []):
        if part.get("caption") == "La méthode":
            return [re.sub(r"\.(md|ipynb)$", "", c["file"]) for c in part.get("chapters", []) if "file" in c]
    return []


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m booktools.training",
                            description="Vérifier les fichiers de la formation (sessions, notes d'animation, "
                                        "quiz, modèles, profils).")
    sub = parser.add_subparsers(dest="commande", required=True)
    check = sub.add_parser("check", help="vérifier tous les fichiers de la formation")
    check.add_argument("--root", type=Path, default=REPO_DIR, help="racine du livre (défaut : le dépôt)")
    args = parser.parse_args(argv)
    training = load_training(args.root)
    for problem in training.problems:
        print(problem)
    if training.problems:
        print(f"{len(training.problems)} problème(s) dans les fichiers de la formation.", file=sys.stderr)
        return 1
    print(f"Formation : {len(training.sessions)} sessions, {len(training.notes)} notes d'animation, "
          f"{len(training.quizzes)} quiz, {len(training.templates)} modèles, {len(training.profiles)} profils : tout est en ordre.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
