"""The labs' assessments against the charter: read, check, explain in French what is wrong.

Each lab `labs/<stem>.ipynb` carries its assessment beside it, `labs/<stem>.ethics.yml`: a score
and a justification per principle of the charter (`dataquartiers.charter`), the risks and how the
lab handles them, the datasets it reads.

What the check enforces (each message names the file, and the principle or dataset at fault):

- every `labs/*.ipynb` has an assessment, every assessment has its lab;
- every principle of the charter is scored with an integer 0–4 and a non-empty justification;
- a principle whose charter entry says `cite_limits_from: N` (robustness of the algorithms, from 3)
  and that is scored N or more names, in `limits_section`, the section of the notebook that says
  the lab's limits: a heading of the notebook that starts with « Limites ». A high robustness
  score then always sits next to what limits it, on the lab page and in the overview;
- every dataset the lab reads — found statically by `booktools.notebooks` — is declared, exists
  in `datasets/datapackage.json` and has a licence there; a dataset marked `synthetic: true` or
  `personal_data: true` in the data package is acknowledged (`synthetic_notice`,
  `personal_data_notice`). Licence and status are never retyped in an assessment.
"""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from dataquartiers.charter import (CHARTER_FILE, Charter, EthicsError, _display, _json_type, _mean, _read_yaml,
                                   _schema, _validate, load_charter)

from dataquartiers import data

from .. import REPO_DIR, TOOLS_DIR, notebooks

ASSESSMENT_SCHEMA = TOOLS_DIR / "schemas" / "ethics-assessment.schema.json"
LABS_DIR = "labs"
ASSESSMENT_SUFFIX = ".ethics.yml"
DATAPACKAGE_FILE = "datasets/datapackage.json"
#: The word a limits section's title starts with (« Limites », « Limites et éthique »).
LIMITS_TITLE_START = "limites"

STATUS_LABELS = {"handled": "traité", "partial": "en partie traité", "open": "ouvert"}


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
    def limits_label(self) -> str:
        """The cross-reference label given to the lab's limits section on its page."""
        return f"ethics-limits-{self.stem}"

    @property
    def short_title(self) -> str:
        return notebooks.short_title(self.title)

    def score(self, principle_id: str) -> int:
        return self.data["principles"][principle_id]["score"]

    def scores(self) -> dict[str, int]:
        return {pid: entry["score"] for pid, entry in self.data["principles"].items()}

    def limits_section(self, principle_id: str) -> str | None:
        return self.data["principles"][principle_id].get("limits_section")

    def cited_limits(self) -> set[str]:
        """The titles of the lab's sections that the assessment cites as its limits."""
        return {e["limits_section"] for e in self.data["principles"].values() if e.get("limits_section")}


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


def section_titles(nb: dict) -> list[str]:
    """The headings of the notebook's Markdown cells, as written (code blocks are not headings)."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark")
    titles = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        tokens = parser.parse(notebooks.source(cell))
        titles += [tokens[i + 1].content.strip() for i, t in enumerate(tokens) if t.type == "heading_open"]
    return titles


def is_limits_title(title: str) -> bool:
    return title.strip().lower().startswith(LIMITS_TITLE_START)


def _limits_errors(data: dict, charter: Charter, titles: list[str], shown: str, nb_shown: str) -> list[str]:
    """The rule of `cite_limits_from`: a high score names the lab's limits section, which exists."""
    errors = []
    limits = [t for t in titles if is_limits_title(t)]
    found = (f"sections des limites du lab : {', '.join(f'« {t} »' for t in limits)}" if limits
             else f"{nb_shown} n'a aucune section dont le titre commence par « Limites » : écrivez-la d'abord")
    for p in charter.principles:
        entry = (data.get("principles") or {}).get(p.id)
        if not isinstance(entry, dict):
            continue  # already reported by the schema
        cited, score = entry.get("limits_section"), entry.get("score")
        if isinstance(cited, str) and cited.strip():
            if cited.strip() not in titles:
                errors.append(f"{shown} : principe « {p.id} » : limits_section « {cited.strip()} » n'est le titre "
                              f"d'aucune section de {nb_shown} ({found})")
            elif not is_limits_title(cited):
                errors.append(f"{shown} : principe « {p.id} » : limits_section « {cited.strip()} » n'est pas une "
                              f"section des limites (son titre doit commencer par « Limites » ; {found})")
        elif (p.cite_limits_from is not None and isinstance(score, int) and not isinstance(score, bool)
              and score >= p.cite_limits_from):
            errors.append(f"{shown} : principe « {p.id} » : un score de {score} doit renvoyer à la section des "
                          f"limites du lab ; ajoutez « limits_section: » suivi de son titre ({found})")
    return errors


def check_assessment(path: Path, notebook: Path, charter: Charter, resources: Mapping[str, dict],
                     root: Path | None = None) -> tuple[LabAssessment | None, list[str]]:
    """Check one lab's assessment against the charter, its notebook and the data package
    (`resources`: its resources by name). What the lab reads: `booktools.notebooks`."""
    shown, nb_shown = _display(path, root), _display(notebook, root)
    try:
        data = _read_yaml(path, shown)
    except EthicsError as err:
        return None, str(err).splitlines()
    if not isinstance(data, dict):
        return None, [f"{shown} : attendu un groupe de champs (summary, assessed, datasets, principles, risks), "
                      f"trouvé {_json_type(data)}"]
    errors = _validate(data, assessment_schema(charter), shown)
    try:
        nb = notebooks.read(notebook)
        needs = notebooks.datasets_read(nb, {"resources": list(resources.values())}, nb_shown)
    except notebooks.NotebookError as err:
        return None, errors + [str(err)]
    errors += _limits_errors(data, charter, section_titles(nb), shown, nb_shown)
    read = needs.reads
    errors += needs.problems
    declared = {}
    for entry in data.get("datasets") or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            if entry["name"] in declared:
                errors.append(f"{shown} : jeu de données « {entry['name']} » déclaré deux fois sous « datasets »")
            declared[entry["name"]] = entry
    for name, where in read.items():
        if name not in declared:
            errors.append(f"{shown} : le jeu de données « {name} » est lu par {nb_shown} ({where}) mais n'est "
                          "pas déclaré sous « datasets »")
    found_resources = {}
    for name, entry in declared.items():
        if name not in read:
            errors.append(f"{shown} : le jeu de données « {name} » est déclaré sous « datasets » mais {nb_shown} "
                          "ne le lit jamais (ni appel à load(), ni fonction du paquet qui le lise)")
        res = resources.get(name)
        if res is None:
            errors.append(f"{shown} : jeu de données « {name} » absent de {DATAPACKAGE_FILE} (ses jeux de "
                          f"données : {', '.join(sorted(resources))})")
            continue
        found_resources[name] = res
        if not [lic for lic in res.get("licenses") or [] if lic.get("name") or lic.get("title")]:
            errors.append(f"{shown} : jeu de données « {name} » sans licence dans {DATAPACKAGE_FILE} "
                          "(champ « licenses » de la ressource)")
        for flag, notice, what, hint in (
                ("synthetic", "synthetic_notice", "synthétique",
                 "ce que des données synthétiques permettent et ne permettent pas de conclure"),
                ("personal_data", "personal_data_notice", "personnel",
                 "base légale, minimisation et protection")):
            marked, said = bool(res.get(flag)), bool(str(entry.get(notice) or "").strip())
            if marked and not said:
                errors.append(f"{shown} : le jeu de données « {name} » est marqué {what} dans {DATAPACKAGE_FILE} : "
                              f"dites-le avec « {notice} » ({hint})")
            elif said and not marked:
                errors.append(f"{shown} : jeu de données « {name} » : « {notice} » est rempli mais "
                              f"{DATAPACKAGE_FILE} ne le marque pas {what}")
    if errors:
        return None, errors
    return LabAssessment(stem=Path(notebook).stem, title=notebooks.title(nb, Path(notebook).stem), path=Path(path),
                         notebook=Path(notebook), data=data, resources=found_resources), []


@dataclass
class Report:
    """Everything the build and the command line need: the charter, the valid assessments, errors."""

    root: Path
    charter: Charter | None
    assessments: list[LabAssessment]
    errors: list[str]
    labs: list[Path] = field(default_factory=list)


def package_resources(root: Path, datasets_folder: Path | None = None) -> tuple[dict[str, dict], list[str]]:
    """The resources of the book's data package by name, and what prevented reading it."""
    folder = Path(datasets_folder) if datasets_folder else Path(root) / "datasets"
    path = folder / "datapackage.json"
    shown = _display(path, root)
    if not path.is_file():
        return {}, [f"{shown} : introuvable (le contrôle éthique y lit les licences des jeux de données)"]
    try:
        return {r["name"]: r for r in data.package(folder)["resources"]}, []
    except (data.DatasetFileError, KeyError, TypeError) as err:
        return {}, [f"{shown} : illisible comme paquet de données ({err})"]


def check_repository(root: Path | str = REPO_DIR, *, charter_path: Path | None = None,
                     datasets_folder: Path | None = None) -> Report:
    """Check the charter and the assessment of every `labs/*.ipynb` under `root`."""
    root = Path(root)
    charter_path = Path(charter_path) if charter_path else root / CHARTER_FILE
    labs = notebooks.lab_notebooks(root)
    try:
        charter = load_charter(charter_path)
    except EthicsError as err:
        return Report(root, None, [], str(err).splitlines(), labs)
    except FileNotFoundError:
        return Report(root, None, [], [f"{_display(charter_path, root)} : fichier introuvable (la charte éthique)"],
                      labs)
    resources, errors = package_resources(root, datasets_folder)
    assessments = []
    for notebook in labs:
        path = assessment_path(notebook)
        if not path.exists():
            errors.append(f"{_display(notebook, root)} : pas d'évaluation éthique ; créez {_display(path, root)} "
                          f"(python -m booktools.ethics new {_display(notebook, root)})")
            continue
        assessment, problems = check_assessment(path, notebook, charter, resources, root)
        errors += problems
        if assessment:
            assessments.append(assessment)
    for path in sorted((root / LABS_DIR).glob("*" + ASSESSMENT_SUFFIX)):
        notebook = path.with_name(path.name[: -len(ASSESSMENT_SUFFIX)] + ".ipynb")
        if not notebook.exists():
            errors.append(f"{_display(path, root)} : aucun lab {_display(notebook, root)} à côté")
    return Report(root, charter, assessments, errors, labs)


def principle_averages(charter: Charter, assessments: list[LabAssessment]) -> dict[str, float | None]:
    """The mean over the labs of each principle's score."""
    return {pid: _mean(a.score(pid) for a in assessments) for pid in charter.principle_ids}


def skeleton(charter: Charter, notebook: Path, root: Path | None = None) -> str:
    """An assessment to fill in for a new lab: every principle, the datasets it reads."""
    resources = package_resources(root or REPO_DIR)[0]
    nb = notebooks.read(notebook)
    read = notebooks.datasets_read(nb, {"resources": list(resources.values())}).reads
    limits = next((t for t in section_titles(nb) if is_limits_title(t)), None)
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
            if p.cite_limits_from is not None:
                lines.append(f"    # à partir d'un score de {p.cite_limits_from} : le titre de la section des limites du lab")
                lines.append(f"    limits_section: {json.dumps(limits or 'Limites', ensure_ascii=False)}")
    lines += ["risks:", '  - risk: ""', "    principles: []", '    handling: ""', "    status: open", ""]
    return "\n".join(lines)
