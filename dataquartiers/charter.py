"""The ethics charter as data, and the self-assessment that trainees fill in against it.

The charter (`ethics-charter/charter.yml`) lists 6 themes and 15 principles, each scored 0–4 —
the grid under which the Data & Quartiers programme earned the Ekitia label. This module reads and
checks it, computes theme averages, and offers the self-assessment form (ipywidgets) and the
filled grid as Markdown, HTML or YAML.

Part of the labs' library: the self-assessment notebook runs in the browser too (Pyodide), so the
top level imports only the standard library and PyYAML; jsonschema and ipywidgets are imported
where they are needed. The labs' assessments, their checks and the charter's pages are build
tooling (`booktools.ethics`).
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

import yaml

from . import PACKAGE_DIR, schema_errors
from . import errors as library_errors

REPO_DIR = PACKAGE_DIR.parent
CHARTER_SCHEMA = PACKAGE_DIR / "schemas" / "ethics-charter.schema.json"
CHARTER_FILE = "ethics-charter/charter.yml"
MIN_SCORE, MAX_SCORE = 0, 4


class EthicsError(library_errors.DonneesError, ValueError):
    """A charter or an assessment cannot be read; the message (French) names the file and the field."""

    label = "Charte éthique ou grille illisible"


class CharterNotFoundError(library_errors.DonneesError, FileNotFoundError):
    """No charter.yml where a lab or the build looks for it."""

    label = "Charte éthique introuvable"


class UnknownIdError(library_errors.DonneesError, KeyError):
    """An id that the charter does not have; the message lists the ones it has."""

    label = "Identifiant inconnu de la charte"

    def __str__(self) -> str:  # KeyError quotes its message; this one is a sentence
        return self.args[0]


# --- the charter --------------------------------------------------------------------------

@dataclass(frozen=True)
class Level:
    level: int
    label: str
    meaning: str


@dataclass(frozen=True)
class Principle:
    id: str
    title: str
    definition: str
    questions: tuple[str, ...]
    theme_id: str
    #: From this score up, a lab's assessment must point to the lab's limits section (None: never).
    cite_limits_from: int | None = None


@dataclass(frozen=True)
class Theme:
    id: str
    title: str
    intro: str
    principles: tuple[Principle, ...]


_KIND_NAMES = {"principle": "principe", "theme": "thème"}


def _by_id(items, wanted: str, what: str):
    """The item of `items` whose `id` is `wanted`; an UnknownIdError listing the ids otherwise."""
    for item in items:
        if item.id == wanted:
            return item
    name = _KIND_NAMES.get(what, what)
    raise UnknownIdError(f"{name} « {wanted} » inconnu de la charte (ses {name}s : "
                         f"{', '.join(i.id for i in items)})")


@dataclass(frozen=True)
class Charter:
    title: str
    version: str
    label: dict
    frameworks: tuple[dict, ...]
    scale: tuple[Level, ...]
    themes: tuple[Theme, ...]
    reference: dict | None = None
    path: Path | None = None

    @property
    def principles(self) -> list[Principle]:
        return [p for t in self.themes for p in t.principles]

    @property
    def principle_ids(self) -> list[str]:
        return [p.id for p in self.principles]

    def principle(self, principle_id: str) -> Principle:
        return _by_id(self.principles, principle_id, "principle")

    def theme(self, theme_id: str) -> Theme:
        return _by_id(self.themes, theme_id, "theme")

    def level(self, score: int) -> Level:
        return next(lv for lv in self.scale if lv.level == score)


def find_charter(start: Path | None = None) -> Path:
    """Where `charter.yml` is: beside the notebook, in `ethics-charter/`, or in the repository.

    `DQ_ETHICS_CHARTER` overrides. The self-assessment notebook runs from `ethics-charter/`,
    a downloaded copy may sit anywhere with the charter beside it.
    """
    candidates = []
    if os.environ.get("DQ_ETHICS_CHARTER"):
        candidates.append(Path(os.environ["DQ_ETHICS_CHARTER"]))
    here = Path(start) if start else Path.cwd()
    candidates += [here / "charter.yml", here / CHARTER_FILE, here.parent / CHARTER_FILE,
                   REPO_DIR / CHARTER_FILE]
    for c in candidates:
        if c.is_file():
            return c.resolve()
    raise CharterNotFoundError("charter.yml introuvable (cherché dans : " + ", ".join(map(str, candidates))
                            + "). Indiquez son chemin dans la variable d'environnement DQ_ETHICS_CHARTER.")


def _display(path: Path, root: Path | None) -> str:
    """A path as messages show it: relative to the book root when possible."""
    path = Path(path)
    for base in (root, REPO_DIR):
        if base is None:
            continue
        try:
            return path.resolve().relative_to(Path(base).resolve()).as_posix()
        except ValueError:
            continue
    return str(path)


# --- reading YAML with bounds -------------------------------------------------------------------

#: A charter or an assessment is a few kilobytes: anything much larger is a mistake or an attack.
MAX_YAML_BYTES = 512 * 1024

#: PyYAML's syntax problems, as a person editing the file can act on them.
_YAML_PROBLEMS = [
    ("mapping values are not allowed", "un « : » inattendu ; mettez entre guillemets un texte qui "
     "contient « : », ou vérifiez l'indentation"),
    ("cannot start any token", "une tabulation ou un caractère interdit ; indentez avec des espaces"),
    ("could not find expected ':'", "il manque « : » après un nom de champ, ou un guillemet n'est pas fermé"),
    ("did not find expected key", "indentation incohérente : les champs d'un même niveau commencent à la "
     "même colonne"),
    ("expected <block end>", "indentation incohérente : les champs d'un même niveau commencent à la "
     "même colonne"),
    ("found unexpected end of stream", "un guillemet ou un crochet n'est pas fermé"),
    ("expected ',' or ']'", "un crochet « [ » n'est pas fermé"),
    ("expected ',' or '}'", "une accolade « { » n'est pas fermée"),
    ("found unknown escape character", "un « \\ » entre guillemets doubles : utilisez des guillemets simples"),
    ("found undefined alias", "un alias « * » sans ancre"),
]


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader without anchors and aliases (whose expansion has no bound), noting
    every key written twice (which a plain load would silently drop)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int, int]] = []

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent) or getattr(self.peek_event(), "anchor", None):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(problem="dq-alias", problem_mark=event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, str) and key in seen:
                self.duplicates.append((key, seen[key], line))
            seen.setdefault(key, line)
        return super().construct_mapping(node, deep=deep)


def _read_yaml(path: Path, shown: str):
    """Read a small YAML file safely: size bounded, no anchors or aliases, no key written twice.
    Every problem is an EthicsError whose French message names the file and the line."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise EthicsError(f"{shown} : fichier introuvable") from None
    if len(raw) > MAX_YAML_BYTES:
        raise EthicsError(f"{shown} : fichier trop volumineux ({len(raw)} octets ; au plus "
                          f"{MAX_YAML_BYTES} octets pour une charte ou une évaluation)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EthicsError(f"{shown} : le fichier n'est pas en UTF-8 ; enregistrez-le en UTF-8") from None
    loader = _BoundedLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (ligne {mark.line + 1}, colonne {mark.column + 1})" if mark else ""
        problem = str(getattr(err, "problem", None) or "")
        if problem == "dq-alias":
            raise EthicsError(f"{shown} : les ancres et les alias YAML (« & », « * ») ne sont pas acceptés"
                              f"{where} ; écrivez la valeur en entier") from None
        hint = next((h for key, h in _YAML_PROBLEMS if key in problem), "syntaxe incorrecte")
        raise EthicsError(f"{shown} : YAML invalide{where} : {hint}") from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise EthicsError("\n".join(f"{shown} : champ « {key} » écrit deux fois (lignes {first} et {again}) ; "
                                    "gardez-en un seul" for key, first, again in loader.duplicates))
    return _plain(data)


def _plain(value):
    """YAML reads `2026-01-15` as a date: make it the ISO string the schema describes."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return value


# --- schema errors as French sentences ----------------------------------------------------------

def _schema(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _json_type(value) -> str:
    if value is None:
        return "rien"
    if isinstance(value, bool):
        return "vrai ou faux"
    if isinstance(value, (int, float)):
        return "un nombre"
    if isinstance(value, str):
        return "un texte"
    if isinstance(value, list):
        return "une liste"
    if isinstance(value, dict):
        return "un groupe de champs"
    return type(value).__name__


_EXPECTED_TYPES = {"string": "un texte", "integer": "un nombre entier", "number": "un nombre",
                   "boolean": "vrai ou faux (true / false)", "array": "une liste (une ligne « - » par élément)",
                   "object": "un groupe de champs (« nom: valeur », indentés dessous)", "null": "rien"}
_EXPECTED_PATTERNS = {"^https?://": "une adresse web (https://…)",
                      "^[a-z][a-z0-9]*(-[a-z0-9]+)*$": "un identifiant en minuscules, chiffres et tirets",
                      "^[0-9]{4}-[0-9]{2}-[0-9]{2}$": "une date AAAA-MM-JJ"}

#: Keys that an assessment must not retype: they are read from the data package.
_DERIVED_KEYS = {"licence", "license", "licenses", "licence_status", "synthetic", "personal_data",
                 "producer"}


def _quoted(values) -> str:
    return ", ".join(f"« {v} »" for v in values)


def _schema_message(err, shown: str) -> str:
    """One jsonschema error as a French sentence naming the file, the field and what is expected."""
    path = list(err.absolute_path)
    v, inst = err.validator, err.instance
    scale = f"{MIN_SCORE} à {MAX_SCORE}"
    # Per-principle errors of an assessment: named after the principle.
    if path[:1] == ["principles"] and len(path) >= 2:
        pid, rest = path[1], path[2:]
        if rest == ["score"]:
            if v in ("minimum", "maximum"):
                return f"{shown} : principe « {pid} » : le score {inst} est hors de l'échelle {scale}"
            if inst is None:
                return f"{shown} : principe « {pid} » : score vide ; donnez un entier de {scale}"
            return f"{shown} : principe « {pid} » : le score « {inst} » n'est pas un entier de {scale}"
        if rest and v in ("pattern", "type") and (inst is None or (isinstance(inst, str) and not inst.strip())):
            what = "la justification est vide" if rest[0] == "justification" else f"le champ « {rest[0]} » est vide"
            return f"{shown} : principe « {pid} » : {what}"
        if not rest and v == "required":
            missing = [k for k in err.validator_value if k not in (inst or {})]
            return f"{shown} : principe « {pid} » : il manque le champ « {missing[0]} »"
        if not rest and v == "additionalProperties":
            allowed = list(err.schema.get("properties", {}))
            extra = sorted(set(inst) - set(allowed))
            return (f"{shown} : principe « {pid} » : champ « {extra[0]} » non prévu "
                    f"(champs possibles : {', '.join(allowed)})")
        if not rest and v == "type":
            return (f"{shown} : principe « {pid} » : attendu un groupe de champs (score, justification), "
                    f"trouvé {_json_type(inst)}")
    if path == ["principles"] and v == "required":
        missing = [k for k in err.validator_value if k not in inst]
        return (f"{shown} : principe « {missing[0]} » absent ; chaque principe de la charte demande un "
                "score et une justification")
    if path == ["principles"] and "propertyNames" in err.schema_path:
        return (f"{shown} : principe « {inst} » inconnu (les principes de la charte : "
                f"{', '.join(err.validator_value)})")
    where = schema_errors.field_name(path)
    if v == "required":
        missing = [k for k in err.validator_value if k not in inst]
        name = f"{where}.{missing[0]}" if where else missing[0]
        return f"{shown} : champ « {name} » manquant"
    if v == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(k for k in inst if k not in allowed)
        name = f"{where}.{extra[0]}" if where else extra[0]
        hint = (" (la licence et le statut d'un jeu de données se lisent dans datasets/datapackage.json : "
                "on ne les recopie pas)" if extra[0] in _DERIVED_KEYS else "")
        return f"{shown} : champ « {name} » non prévu{hint} ; champs possibles : {', '.join(allowed)}"
    if v == "pattern":
        if isinstance(inst, str) and not inst.strip():
            return f"{shown} : champ « {where} » vide"
        expected = _EXPECTED_PATTERNS.get(err.validator_value, "un texte d'une autre forme")
        return f"{shown} : champ « {where} » : « {inst} » ne convient pas ; attendu {expected}"
    if v == "type":
        expected = err.validator_value
        expected = " ou ".join(_EXPECTED_TYPES.get(e, e) for e in expected) if isinstance(expected, list) \
            else _EXPECTED_TYPES.get(expected, expected)
        return f"{shown} : champ « {where} » : attendu {expected}, trouvé {_json_type(inst)}"
    if v == "enum":
        return (f"{shown} : champ « {where} » : « {inst} » n'est pas une valeur possible "
                f"({_quoted(err.validator_value)})")
    if v == "minItems":
        return f"{shown} : champ « {where} » : il faut au moins {err.validator_value} élément(s)"
    if v == "maximum":
        return f"{shown} : champ « {where} » : {inst} dépasse le maximum ({err.validator_value})"
    if v == "minimum":
        return f"{shown} : champ « {where} » : {inst} est sous le minimum ({err.validator_value})"
    return f"{shown} : champ « {where or '(racine)'} » : valeur refusée (règle « {v} » du schéma)"


def _validate(data, schema: dict, shown: str) -> list[str]:
    try:
        import jsonschema
    except ImportError:  # Pyodide without jsonschema: the build has validated the files already
        return []
    validator = jsonschema.Draft202012Validator(schema)
    errors = schema_errors.errors_in_order(validator, data)
    return list(dict.fromkeys(_schema_message(e, shown) for e in errors))


def charter_errors(data, shown: str) -> list[str]:
    """What is wrong with a charter document (schema, then ids, scale and reference), in French."""
    errors = _validate(data, _schema(CHARTER_SCHEMA), shown)
    if errors or not isinstance(data, dict):
        return errors or [f"{shown} : attendu un groupe de champs (title, version, label, frameworks, "
                          f"scale, themes), trouvé {_json_type(data)}"]
    levels = [lv["level"] for lv in data["scale"]]
    if levels != list(range(MIN_SCORE, MAX_SCORE + 1)):
        errors.append(f"{shown} : champ « scale » : les niveaux doivent être {MIN_SCORE}, 1, 2, 3, {MAX_SCORE} "
                      f"dans cet ordre (trouvés : {', '.join(map(str, levels))})")
    seen: dict[str, str] = {}
    for t in data["themes"]:
        for item, kind in [(t, "theme")] + [(p, "principle") for p in t["principles"]]:
            if item["id"] in seen:
                errors.append(f"{shown} : identifiant « {item['id']} » employé deux fois "
                              f"(c'est déjà celui d'un {_KIND_NAMES[seen[item['id']]]})")
            seen[item["id"]] = kind
    ref = data.get("reference")
    if ref:
        principles = [p["id"] for t in data["themes"] for p in t["principles"]]
        themes = {t["id"]: [p["id"] for p in t["principles"]] for t in data["themes"]}
        for key, known in (("principle_scores", principles), ("theme_averages", list(themes))):
            for k in ref[key]:
                if k not in known:
                    errors.append(f"{shown} : champ « reference.{key}.{k} » : identifiant inconnu "
                                  f"(attendu l'un de : {', '.join(known)})")
            for k in known:
                if k not in ref[key]:
                    errors.append(f"{shown} : champ « reference.{key}.{k} » manquant")
        if not errors:  # the published theme averages must agree with the principle scores
            for tid, pids in themes.items():
                mean = sum(ref["principle_scores"][p] for p in pids) / len(pids)
                if abs(mean - ref["theme_averages"][tid]) > 0.05 + 1e-9:
                    errors.append(f"{shown} : champ « reference.theme_averages.{tid} » : "
                                  f"{fmt_number(ref['theme_averages'][tid])} ne correspond pas à la moyenne "
                                  f"des scores de ses principes ({fmt_number(mean, 2)})")
    return errors


def charter_from_data(data: dict, path: Path | None = None) -> Charter:
    themes = tuple(
        Theme(id=t["id"], title=t["title"].strip(), intro=t["intro"].strip(),
              principles=tuple(Principle(id=p["id"], title=p["title"].strip(),
                                         definition=p["definition"].strip(),
                                         questions=tuple(q.strip() for q in p["questions"]),
                                         theme_id=t["id"], cite_limits_from=p.get("cite_limits_from"))
                               for p in t["principles"]))
        for t in data["themes"])
    return Charter(title=data["title"], version=str(data["version"]), label=data["label"],
                   frameworks=tuple(data["frameworks"]),
                   scale=tuple(Level(lv["level"], lv["label"].strip(), lv["meaning"].strip())
                               for lv in data["scale"]),
                   themes=themes, reference=data.get("reference"), path=path)


def load_charter(path: Path | str | None = None, *, validate: bool = True) -> Charter:
    """Read and check the charter; raise EthicsError listing every problem (in French)."""
    path = Path(path) if path else find_charter()
    shown = _display(path, None)
    data = _read_yaml(path, shown)
    if validate:
        errors = charter_errors(data, shown)
        if errors:
            raise EthicsError("\n".join(errors))
    return charter_from_data(data, path)

# --- averages and numbers --------------------------------------------------------------------

def fmt_number(value: float | None, decimals: int = 1) -> str:
    """An average in the book's one French number format (3.85 → "3,9": indicators.format_fr);
    "–" when nothing is scored, as for an unscored principle."""
    from .indicators import format_fr  # with pandas: imported when a number is written, not with the module

    return format_fr(value, decimals, missing="–")


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def theme_averages(charter: Charter, scores: Mapping[str, float | None]) -> dict[str, float | None]:
    """The mean score of each theme over its scored principles (None if none is scored)."""
    return {t.id: _mean(scores.get(p.id) for p in t.principles) for t in charter.themes}



def overall_average(charter: Charter, scores: Mapping[str, float | None]) -> float | None:
    return _mean(scores.get(pid) for pid in charter.principle_ids)



# --- French text ------------------------------------------------------------------------

_NBSP, _NNBSP = "\u00a0", "\u202f"
_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"]


def _one_line(text: str) -> str:
    """Text on one line, with French spacing: no line break inside « » nor before ; : ? !"""
    text = " ".join(str(text).split())
    text = text.replace("« ", "«" + _NBSP).replace(" »", _NBSP + "»")
    return re.sub(r" ([;:?!])(?=\s|$)", _NNBSP + r"\1", text)


def french_date(iso: str) -> str:
    """"2026-11-22" → "22 novembre 2026"."""
    try:
        d = _dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{'1er' if d.day == 1 else d.day} {_MONTHS[d.month - 1]} {d.year}"


def _cell(text: str) -> str:
    """Text that fits in a Markdown table cell."""
    return _one_line(text).replace("|", "\\|")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# --- self-assessment (the trainees' notebook) ----------------------------------------------------

def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _answers_scores(answers: Mapping[str, Mapping]) -> dict[str, int | None]:
    return {pid: (a or {}).get("score") for pid, a in answers.items()}


def grid_markdown(charter: Charter, project: str, answers: Mapping[str, Mapping], *,
                  by: str = "", date: str | None = None, summary: str = "") -> str:
    """A filled grid in Markdown: theme averages, then every principle with score and justification."""
    date = date or _dt.date.today().isoformat()
    scores = _answers_scores(answers)
    means = theme_averages(charter, scores)
    scored = [s for s in scores.values() if s is not None]
    out = [f"# Auto-évaluation éthique : {project or 'projet sans nom'}", "",
           f"Grille de la {_lower_first(charter.title)} (version {charter.version}), remplie le {date}"
           + (f" par {by}" if by else "") + ".", ""]
    if summary.strip():
        out += [_one_line(summary), ""]
    out += ["## Moyennes par thème (sur 4)", ""]
    rows = []
    for t in charter.themes:
        n = sum(1 for p in t.principles if scores.get(p.id) is not None)
        rows.append([t.title, fmt_number(means[t.id]), f"{n} / {len(t.principles)}"])
    rows.append(["**Moyenne générale**", f"**{fmt_number(_mean(scored))}**",
                 f"{len(scored)} / {len(charter.principles)}"])
    out += [_table(["Thème", "Moyenne", "Principes notés"], rows), "", "## Grille détaillée", ""]
    rows = []
    for t in charter.themes:
        for p in t.principles:
            a = answers.get(p.id) or {}
            score = a.get("score")
            level = charter.level(score).label if score is not None else "non noté"
            rows.append([_cell(t.title), _cell(p.title), "–" if score is None else str(score), level,
                         _cell(a.get("justification") or "")])
    out += [_table(["Thème", "Principe", "Score", "Niveau", "Justification"], rows), ""]
    weak = [p for p in charter.principles if scores.get(p.id) is None or scores[p.id] <= 2]
    if weak:
        out += ["## Points à travailler", "", "Principes non notés ou notés 2 ou moins, avec les questions de la charte :", ""]
        for p in weak:
            out.append(f"- **{p.title}** ({'non noté' if scores.get(p.id) is None else str(scores[p.id]) + ' / 4'}) : "
                       + " ".join(_one_line(q) for q in p.questions))
        out.append("")
    return "\n".join(out)


def grid_html(charter: Charter, project: str, answers: Mapping[str, Mapping], *,
              by: str = "", date: str | None = None, summary: str = "") -> str:
    """The filled grid as an HTML fragment for a notebook output.

    No headings (the notebook page has its own: a heading in an output would break the page's
    outline), tables with a caption and header cells, as screen readers expect.
    """
    esc = html.escape
    date = date or _dt.date.today().isoformat()
    scores = _answers_scores(answers)
    means = theme_averages(charter, scores)
    scored = [v for v in scores.values() if v is not None]
    out = [f"<p><strong>Auto-évaluation éthique : {esc(project or 'projet sans nom')}</strong> — grille de la "
           f"{esc(_lower_first(charter.title))} (version {esc(charter.version)}), remplie le "
           f"{esc(french_date(date))}" + (f" par {esc(by)}" if by else "") + ".</p>"]
    if summary.strip():
        out.append(f"<p>{esc(_one_line(summary))}</p>")
    rows = "".join(
        f"<tr><th scope=\"row\">{esc(t.title)}</th><td>{fmt_number(means[t.id])}</td>"
        f"<td>{sum(1 for p in t.principles if scores.get(p.id) is not None)} / {len(t.principles)}</td></tr>"
        for t in charter.themes)
    rows += (f"<tr><th scope=\"row\">Moyenne générale</th><td><strong>{fmt_number(_mean(scored))}</strong></td>"
             f"<td>{len(scored)} / {len(charter.principles)}</td></tr>")
    out.append("<table><caption>Moyennes par thème (sur 4)</caption><thead><tr><th scope=\"col\">Thème</th>"
               "<th scope=\"col\">Moyenne</th><th scope=\"col\">Principes notés</th></tr></thead>"
               f"<tbody>{rows}</tbody></table>")
    rows = ""
    for t in charter.themes:
        for p in t.principles:
            a = answers.get(p.id) or {}
            score = a.get("score")
            level = charter.level(score).label if score is not None else "non noté"
            rows += (f"<tr><td>{esc(t.title)}</td><th scope=\"row\">{esc(p.title)}</th>"
                     f"<td>{'–' if score is None else score}</td><td>{esc(level)}</td>"
                     f"<td>{esc(_one_line(a.get('justification') or ''))}</td></tr>")
    out.append("<table><caption>Grille détaillée</caption><thead><tr><th scope=\"col\">Thème</th>"
               "<th scope=\"col\">Principe</th><th scope=\"col\">Score</th><th scope=\"col\">Niveau</th>"
               f"<th scope=\"col\">Justification</th></tr></thead><tbody>{rows}</tbody></table>")
    weak = [p for p in charter.principles if scores.get(p.id) is None or scores[p.id] <= 2]
    if weak:
        items = "".join(f"<li><strong>{esc(p.title)}</strong> "
                        f"({'non noté' if scores.get(p.id) is None else str(scores[p.id]) + ' / 4'})</li>"
                        for p in weak)
        out.append(f"<p>Points à travailler (non notés ou notés 2 ou moins) :</p><ul>{items}</ul>")
    return "\n".join(out)


def assessment_yaml(charter: Charter, project: str, answers: Mapping[str, Mapping], *,
                    by: str = "", date: str | None = None, summary: str = "") -> str:
    """The same grid as YAML, in the shape of the labs' assessments, with the theme averages."""
    date = date or _dt.date.today().isoformat()
    scores = _answers_scores(answers)
    means = theme_averages(charter, scores)
    doc = {
        "project": project,
        "assessed": {"date": date, "by": by},
        "summary": summary,
        "principles": {p.id: {"score": (answers.get(p.id) or {}).get("score"),
                              "justification": (answers.get(p.id) or {}).get("justification") or ""}
                       for p in charter.principles},
        "theme_averages": {t.id: (None if means[t.id] is None else round(means[t.id], 2))
                           for t in charter.themes},
    }
    head = (f"# Auto-évaluation éthique selon la {_lower_first(charter.title)} (version {charter.version}).\n"
            "# Scores de 0 à 4 (null : non noté) ; theme_averages est calculé, ne pas le modifier.\n")
    return head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)


def _slug(text: str) -> str:
    import unicodedata
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-") or "mon-projet"


class SelfAssessmentForm:
    """An ipywidgets form over the charter: a score and a justification per principle.

    The theme averages update as scores are chosen; "Produire la grille" shows the filled grid
    and its YAML; "Enregistrer" writes both into `folder` (the notebook's folder by default:
    in the browser, that is the JupyterLite file browser). Pure Python and ipywidgets: it runs
    under Pyodide, with no thread and no network.
    """

    def __init__(self, charter: Charter, *, folder: str | Path = "."):
        import ipywidgets as w

        self.charter = charter
        self.folder = Path(folder)
        wide = w.Layout(width="100%")
        self.project = w.Text(description="Projet", placeholder="nom de votre projet", layout=wide)
        self.by = w.Text(description="Évalué par", placeholder="une équipe ou une structure", layout=wide)
        self.summary = w.Textarea(description="Résumé", placeholder="la question, les données, les partenaires",
                                  layout=wide)
        scale_tips = [f"{lv.level} — {lv.label} : {lv.meaning}" for lv in charter.scale]
        self.scores: dict = {}
        self.justifications: dict = {}
        pages, titles = [], []
        for t in charter.themes:
            blocks = [w.HTML(f"<p>{html.escape(t.intro)}</p>")]
            for p in t.principles:
                self.scores[p.id] = w.ToggleButtons(
                    options=[(str(lv.level), lv.level) for lv in charter.scale], value=None,
                    tooltips=scale_tips, description="Score", style={"button_width": "3em"})
                self.justifications[p.id] = w.Textarea(
                    description="Pourquoi", layout=wide,
                    placeholder="Ce qui est fait, ce qui manque, ce qui reste à vérifier")
                questions = "".join(f"<li>{html.escape(q)}</li>" for q in p.questions)
                blocks.append(w.VBox([
                    # <strong>, not a heading: an <h4> here would break the page's outline
                    w.HTML(f"<p><strong>{html.escape(p.title)}</strong></p><p>{html.escape(p.definition)}</p>"
                           f"<details><summary>Questions à se poser</summary><ul>{questions}</ul></details>"),
                    self.scores[p.id], self.justifications[p.id]]))
            pages.append(w.VBox(blocks))
            titles.append(t.title)
        self.themes = w.Accordion(children=pages, titles=tuple(titles))
        self.averages = w.HTML()
        self.show_button = w.Button(description="Produire la grille", icon="table", button_style="primary",
                                    layout=w.Layout(width="auto"))
        self.save_button = w.Button(description="Enregistrer (.md et .yml)", icon="save",
                                    layout=w.Layout(width="auto"))
        self.output = w.Output()
        self.show_button.on_click(lambda _: self.show())
        self.save_button.on_click(lambda _: self._save_and_report())
        for widget in self.scores.values():
            widget.observe(lambda _change: self._refresh(), names="value")
        self._refresh()
        legend = "".join(f"<li><strong>{lv.level}</strong> {html.escape(lv.label)} : {html.escape(lv.meaning)}</li>"
                         for lv in charter.scale)
        self.widget = w.VBox([
            self.project, self.by, self.summary,
            w.HTML(f"<details><summary>L'échelle de 0 à 4</summary><ul>{legend}</ul></details>"),
            self.themes, self.averages, w.HBox([self.show_button, self.save_button]), self.output])

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def answers(self) -> dict[str, dict]:
        return {pid: {"score": self.scores[pid].value, "justification": self.justifications[pid].value.strip()}
                for pid in self.charter.principle_ids}

    def fill(self, answers: Mapping[str, Mapping], *, project: str | None = None, by: str | None = None,
             summary: str | None = None) -> None:
        """Set the form from a mapping (used by the tests, or to reload a previous grid)."""
        for pid, a in answers.items():
            self.charter.principle(pid)  # unknown id: KeyError naming the known ones
            if "score" in a:
                self.scores[pid].value = a["score"]
            if "justification" in a:
                self.justifications[pid].value = a["justification"] or ""
        for widget, value in ((self.project, project), (self.by, by), (self.summary, summary)):
            if value is not None:
                widget.value = value

    def theme_averages(self) -> dict[str, float | None]:
        return theme_averages(self.charter, _answers_scores(self.answers()))

    def _refresh(self) -> None:
        means = self.theme_averages()
        items = "".join(f"<li>{html.escape(t.title)} : <strong>{fmt_number(means[t.id])}</strong></li>"
                        for t in self.charter.themes)
        self.averages.value = f"<p>Moyennes par thème (sur 4) :</p><ul>{items}</ul>"

    def markdown(self) -> str:
        return grid_markdown(self.charter, self.project.value.strip(), self.answers(),
                             by=self.by.value.strip(), summary=self.summary.value)

    def yaml(self) -> str:
        return assessment_yaml(self.charter, self.project.value.strip(), self.answers(),
                               by=self.by.value.strip(), summary=self.summary.value)

    def html(self) -> str:
        return grid_html(self.charter, self.project.value.strip(), self.answers(),
                         by=self.by.value.strip(), summary=self.summary.value)

    def show(self) -> None:
        from IPython.display import HTML, display

        self.output.clear_output()
        with self.output:
            display(HTML(self.html()))
            display(HTML("<p>La même grille en YAML :</p><pre>" + html.escape(self.yaml()) + "</pre>"))

    def save(self) -> list[Path]:
        """Write `<projet>.grille-ethique.md` and `.yml` into the form's folder; return the paths."""
        stem = _slug(self.project.value.strip() or "mon-projet")
        self.folder.mkdir(parents=True, exist_ok=True)
        md, yml = self.folder / f"{stem}.grille-ethique.md", self.folder / f"{stem}.grille-ethique.yml"
        md.write_text(self.markdown(), encoding="utf-8")
        yml.write_text(self.yaml(), encoding="utf-8")
        return [md, yml]

    def _save_and_report(self) -> None:
        paths = self.save()
        self.output.clear_output()
        with self.output:
            print("Enregistré :", ", ".join(p.name for p in paths))
