"""Load and check the catalogue: one YAML file per source or partner, each against its schema.

The people who edit these files are resource-centre staff, often in the forge's web editor, so
every mistake comes back as one French sentence naming the file, the field and what is expected
(`catalogue/sources/insee-rp.yml : champ « licence » : « etalab » n'est pas une valeur possible …`),
and every problem of every file is reported at once. The same `load_catalogue()` serves the command
line (`python -m booktools.catalogue check`), the book's build and the tests. The sentences are
made here and only here (`_schema_messages` turns each JSON Schema error into one).

Nothing is lost in silence: a file of the catalogue folders that will not be read (another
extension, a subfolder, a YAML file elsewhere under catalogue/) is reported; so is a value cut by a
` #` comment (yamlfile.py). A reading failure of any kind becomes a message, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker

from dataquartiers import data
from dataquartiers.schema_errors import errors_in_order, field_name

from .. import TOOLS_DIR
from .yamlfile import read_yaml

SCHEMA_DIR = TOOLS_DIR / "schemas"
CATALOGUE_DIR = "catalogue"
LABS_DIR = "labs"
#: Committed files of the staff guide under catalogue/ (never read as entries): the blank entries
#: and the field reference, remade by `python -m booktools.catalogue templates`.
TEMPLATES_DIR = "templates"
DATAPACKAGE = "datasets/datapackage.json"

#: What `new` writes in every field to fill; `check` reports any that is left.
PLACEHOLDER = "À COMPLÉTER"

#: kind -> (folder under catalogue/, schema file)
KINDS = {
    "source": ("sources", "catalogue-source.schema.json", "source.yml"),
    "partner": ("partners", "catalogue-partner.schema.json", "partenaire.yml"),
}
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ID_EXPECTED = "lettres minuscules sans accent, chiffres et tirets, par exemple insee-filosofi-iris"
# A last review older than this costs a quality point (udata's "up to date" criterion).
FRESHNESS_DAYS = 365
DESCRIPTION_MIN = 100  # udata's threshold for a documented description

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<!\d)(?:\+33\s?|0)[1-9](?:[ .-]?\d{2}){4}(?!\d)")
_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


# --- the problems -----------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Problem:
    """One mistake, in words a non-developer can act on."""

    path: str            # the file, relative to the book root, e.g. catalogue/sources/insee-rp.yml
    message: str         # e.g. "champ « licence » : « etalab » n'est pas une valeur possible …"
    line: int | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.path} : {self.message}"


@dataclass
class Entry:
    """One YAML file of the catalogue, as read."""

    kind: str            # "source" or "partner"
    id: str              # the file name without .yml
    path: str            # relative to the book root
    data: dict
    valid: bool = True   # False when the file itself has a problem (the set-wide checks aside)


@dataclass
class Catalogue:
    root: Path
    sources: dict[str, Entry]
    partners: dict[str, Entry]
    labs: list[str]
    #: catalogue id -> [(resource name, resource title)] of the data package of the labs
    datasets: dict[str, list[tuple[str, str]]]
    problems: list[Problem]
    today: dt.date

    def valid_sources(self) -> list[Entry]:
        return [e for e in self.sources.values() if e.valid]

    def valid_partners(self) -> list[Entry]:
        return [e for e in self.partners.values() if e.valid]


# --- schemas and vocabularies -----------------------------------------------------------------

@lru_cache(maxsize=None)
def schema(kind: str) -> dict:
    return json.loads((SCHEMA_DIR / KINDS[kind][1]).read_text(encoding="utf-8"))


def subschema(kind: str, dotted: str) -> dict:
    """The schema of a field: 'licence', 'publisher.url', 'distributions.format', 'themes'."""
    node = schema(kind)
    for part in dotted.split("."):
        if node.get("type") == "array":
            node = node["items"]
        node = node["properties"][part]
    return node


def terms(kind: str, dotted: str) -> dict[str, dict]:
    """The controlled vocabulary of a field: value -> {label, url, open, eu, …}, in schema order."""
    node = subschema(kind, dotted)
    if node.get("type") == "array":
        node = node["items"]
    return {value: node["x-terms"][value] for value in node["enum"]}


def label(kind: str, dotted: str, value: str) -> str:
    return terms(kind, dotted).get(value, {}).get("label", value)


# --- YAML reading: booktools/catalogue/yamlfile.py -----------------------------------------

# --- checking one entry -----------------------------------------------------------------------

_NOT_IN_URL = re.compile(r'[\s<>"{}|\\^`]')


@lru_cache(maxsize=4096)
def _is_url(value: object) -> bool:
    if not isinstance(value, str) or _NOT_IN_URL.search(value):
        return False
    parts = urlsplit(value)
    host = parts.hostname or ""
    return parts.scheme in ("http", "https") and ("." in host or host == "localhost")


def _is_date(value: object) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _is_partial_date(value: object) -> bool:
    if not isinstance(value, str) or not _PARTIAL_DATE.match(value):
        return False
    year, month, day = (value.split("-") + [None, None])[:3]
    try:
        dt.date(int(year), int(month or 1), int(day or 1))
    except ValueError:
        return False
    return True


_FORMATS = FormatChecker(formats=())
_FORMATS.checks("uri")(_is_url)
_FORMATS.checks("date")(_is_date)
_FORMATS.checks("partial-date")(_is_partial_date)

_FORMAT_EXPECTED = {
    "uri": "n'est pas une adresse web valide (attendu : http:// ou https:// suivi d'un nom de domaine)",
    "date": "n'est pas une date valide (attendu : AAAA-MM-JJ, par exemple 2025-03-14)",
    "partial-date": "n'est pas une année ou une date valide (attendu : AAAA, AAAA-MM ou AAAA-MM-JJ)",
}


@lru_cache(maxsize=None)
def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(schema(kind), format_checker=_FORMATS)


def _kind_of(value: object) -> str:
    if isinstance(value, dict):
        return "un groupe de champs"
    if isinstance(value, list):
        return "une liste"
    return "un texte"


_EXPECTED_TYPE = {
    "object": "un groupe de champs (des lignes « nom: valeur », indentées dessous)",
    "array": "une liste (une ligne « - valeur » par élément)",
    "string": "un texte",
}

#: Longest text shown back in a message: a 5,000-character title is not repeated whole.
_QUOTE_MAX = 60


def _quote(value: object) -> str:
    text = " ".join(str(value).split())
    return f"« {text if len(text) <= _QUOTE_MAX else text[:_QUOTE_MAX] + '…'} »"


def _expected(node: dict) -> str:
    """What a field expects, in a few words, for the 'absent' messages."""
    if "enum" in node:
        return "une de ces valeurs : " + ", ".join(node["enum"])
    if node.get("format") in ("uri",):
        return "une adresse web (https://…)"
    if node.get("format") == "date":
        return "une date AAAA-MM-JJ"
    if node.get("format") == "partial-date":
        return "une année AAAA ou une date AAAA-MM-JJ"
    if node.get("type") == "array":
        items = node.get("items", {})
        return "une liste" + (f" de valeurs parmi {', '.join(items['enum'])}" if "enum" in items
                              else (f" de codes ({items['x-expected']})" if "x-expected" in items else ""))
    if node.get("type") == "object":
        return "un groupe de champs : " + ", ".join(node.get("required", []))
    return "un texte"


def _suggest(value: object, choices) -> str:
    close = difflib.get_close_matches(str(value), list(choices), n=1, cutoff=0.6)
    return f" (vouliez-vous dire « {close[0]} » ?)" if close else ""


def _schema_messages(error) -> list[str]:
    """Turn one jsonschema error into one or more French sentences: the only place they are made."""
    where = field_name(error.absolute_path)
    value = error.instance
    kind = error.validator
    if kind == "required":
        missing = [p for p in error.validator_value if not isinstance(value, dict) or p not in value]
        props = error.schema.get("properties", {})
        prefix = f"{where}." if where else ""
        return [f"champ « {prefix}{p} » : absent (obligatoire ; attendu : {_expected(props.get(p, {}))})"
                for p in missing]
    if kind == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extras = [k for k in value if k not in allowed]
        prefix = f"{where}." if where else ""
        return [f"champ « {prefix}{k} » : champ inconnu"
                + (_suggest(k, allowed) or f" (champs possibles : {', '.join(allowed)})") for k in extras]
    if kind == "enum":
        return [f"champ « {where} » : {_quote(value)} n'est pas une valeur possible (valeurs possibles : "
                f"{', '.join(error.validator_value)})" + _suggest(value, error.validator_value)]
    if kind == "type":
        got = f"{_kind_of(value)} ({_quote(value)})" if isinstance(value, str) else _kind_of(value)
        return [f"champ « {where} » : attendu {_EXPECTED_TYPE.get(error.validator_value, error.validator_value)}, "
                f"trouvé {got}"]
    if kind == "format":
        return [f"champ « {where} » : {_quote(value)} "
                f"{_FORMAT_EXPECTED.get(error.validator_value, 'n a pas le format attendu')}"]
    if kind == "pattern":
        expected = error.schema.get("x-expected", ID_EXPECTED)
        noun = "un code valide" if "x-expected" in error.schema else "un identifiant valide"
        return [f"champ « {where} » : {_quote(value)} n'est pas {noun} (attendu : {expected})"]
    if kind == "minLength":
        return [f"champ « {where} » : {_quote(value)} est trop court (au moins {error.validator_value} caractères)"]
    if kind == "maxLength":
        return [f"champ « {where} » : le texte fait {len(value)} caractères, c'est trop long (au plus "
                f"{error.validator_value} ; les détails ont leur place dans la description ou les limites)"]
    if kind == "minItems":
        return [f"champ « {where} » : la liste est vide (au moins {error.validator_value} élément attendu)"]
    if kind == "maxItems":
        return [f"champ « {where} » : la liste a {len(value)} éléments, c'est trop (au plus {error.validator_value})"]
    if kind == "uniqueItems":
        seen, twice = set(), []
        for item in value:
            key = json.dumps(item, sort_keys=True)
            if key in seen:
                twice.append(item)
            seen.add(key)
        return [f"champ « {where} » : {_quote(item)} figure deux fois dans la liste" for item in twice]
    # Another keyword would be a schema change without its sentence: still French, still the field.
    return [f"champ « {where} » : valeur refusée par le schéma (règle « {kind} »)"]


def _normalise(value):
    """Texts without their outer spaces; an empty value (`licence_note:` with nothing after it, or
    only spaces) counts as an absent field."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _normalise(v)
            if v != "":
                out[k] = v
        return out
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    if isinstance(value, str):
        return value.strip()
    return value


def _placeholders(value, path=()) -> list[tuple]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _placeholders(v, path + (k,))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _placeholders(v, path + (i,))]
    return [path] if isinstance(value, str) and PLACEHOLDER.lower() in value.lower() else []


def _texts(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _texts(v, path + (i,))
    elif isinstance(value, str):
        yield path, value


def _schema_path(path) -> str:
    return ".".join(p for p in path if isinstance(p, str))


def _free_text_paths(node: dict, prefix: tuple = ()):
    for name, sub in node.get("properties", {}).items():
        target = sub.get("items", {}) if sub.get("type") == "array" else sub
        if target.get("type") == "object":
            yield from _free_text_paths(target, prefix + (name,))
        elif target.get("type") == "string" and not ({"enum", "format", "pattern"} & set(target)):
            yield prefix + (name,)


@lru_cache(maxsize=None)
def _free_texts(kind: str) -> frozenset:
    """Schema paths of the free-text fields (a text without vocabulary, format or pattern)."""
    return frozenset(_free_text_paths(schema(kind)))


def _without_letters(kind: str, data: dict) -> list[str]:
    """A text of punctuation only (« ... », « - ») is as empty as no text at all."""
    free = _free_texts(kind)
    return [f"champ « {field_name(path)} » : {_quote(text)} ne contient ni lettre ni chiffre (écrivez le texte, "
            "ou retirez le champ s'il est facultatif)"
            for path, text in _texts(data)
            if tuple(p for p in path if isinstance(p, str)) in free and not re.search(r"\w", text)]


def check_entry(kind: str, file_id: str, data: object, today: dt.date) -> list[str]:
    """Every problem of one entry (without the checks that need the whole catalogue)."""
    if data is None:
        return [f"le fichier est vide (partez du modèle : {CATALOGUE_DIR}/{TEMPLATES_DIR}/{KINDS[kind][2]}, ou "
                f"python -m booktools.catalogue new {kind} {file_id})"]
    if not isinstance(data, dict):
        return [f"le fichier doit commencer par des lignes « nom: valeur », et non par {_kind_of(data)}"]
    data = _normalise(data)
    messages: list[str] = []

    to_fill = _placeholders(data)
    for path in to_fill:
        node = subschema(kind, _schema_path(path)) if _schema_path(path) else {}
        if path and isinstance(path[-1], int) and node.get("type") == "array":
            node = node["items"]  # one item of a list: say what one item expects
        messages.append(f"champ « {field_name(path)} » : contient encore « {PLACEHOLDER} » "
                        f"(à remplir ; attendu : {_expected(node)})")
    filled_in = [p for p in to_fill]

    def _under_placeholder(error) -> bool:
        return any(tuple(error.absolute_path)[:len(p)] == p for p in filled_in)

    errors = errors_in_order(_validator(kind), data)
    for error in errors:
        if not _under_placeholder(error):
            messages.extend(_schema_messages(error))
    messages.extend(_without_letters(kind, data))

    declared = data.get("id")
    if isinstance(declared, str) and ID_PATTERN.match(declared) and ID_PATTERN.match(file_id) \
            and declared != file_id:
        messages.append(f"champ « id » : « {declared} » ne correspond pas au nom du fichier (l'identifiant est le "
                        f"nom du fichier sans .yml : « {file_id} »)")

    for path, text in _texts(data):
        if path and path[-1] in ("url", "website", "landing_page", "download_url"):
            continue
        for pattern, what in ((_EMAIL, "une adresse électronique"), (_PHONE, "un numéro de téléphone")):
            found = pattern.search(text)
            if found:
                messages.append(f"champ « {field_name(path)} » : contient {what} (« {found.group()} ») ; "
                                "le catalogue ne présente que des organisations et leurs pages publiques, "
                                "jamais les coordonnées d'une personne")

    if kind == "source":
        messages.extend(_source_rules(data, today))
    if kind == "partner":
        messages.extend(_dated("last_reviewed", data.get("last_reviewed"), today))
    return messages


def _dated(name: str, value: object, today: dt.date) -> list[str]:
    if _is_date(value) and dt.date.fromisoformat(value) > today:
        return [f"champ « {name} » : « {value} » est dans le futur (nous sommes le {today.isoformat()})"]
    return []


def _source_rules(data: dict, today: dt.date) -> list[str]:
    """Rules that tie fields together (a JSON Schema if/then would give an unreadable message)."""
    messages = []
    if data.get("licence_status") == "unverified" and not data.get("licence_note"):
        messages.append("champ « licence_note » : absent (obligatoire quand licence_status vaut « unverified » : "
                        "dites ce qui reste incertain sur la licence)")
    elif data.get("licence") == "other-open" and not data.get("licence_note"):
        messages.append("champ « licence_note » : absent (obligatoire quand licence vaut « other-open » : "
                        "nommez les conditions du producteur)")
    if data.get("access") in ("on_request", "restricted") and not data.get("access_note"):
        messages.append(f"champ « access_note » : absent (obligatoire quand access vaut « {data['access']} » : "
                        "dites comment obtenir les données)")
    temporal = data.get("temporal")
    if isinstance(temporal, dict) and _is_partial_date(temporal.get("start")) \
            and _is_partial_date(temporal.get("end")):
        # Compare on the common precision: "2015" and "2015-06" are not in conflict.
        start, end = temporal["start"], temporal["end"]
        width = min(len(start), len(end))
        if end[:width] < start[:width]:
            messages.append(f"champ « temporal.end » : « {end} » est avant temporal.start « {start} »")
    messages.extend(_dated("last_reviewed", data.get("last_reviewed"), today))
    return messages


# --- the whole catalogue ----------------------------------------------------------------------

def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def find_labs(root: Path) -> list[str]:
    """The labs of the book: notebooks in labs/ (.ipynb, or MyST .md), by file name."""
    folder = root / LABS_DIR
    if not folder.is_dir():
        return []
    return sorted({p.stem for p in folder.iterdir()
                   if p.suffix in (".ipynb", ".md") and p.stem != "index" and not p.name.startswith(".")})


def _read_datapackage(root: Path, problems: list[Problem]) -> dict[str, list[tuple[str, str]]]:
    path = root / DATAPACKAGE
    if not path.is_file():
        return {}
    try:
        package = data.package(path.parent)
        resources = package.get("resources", []) if isinstance(package, dict) else []
    except (data.DatasetFileError, UnicodeDecodeError) as err:
        problems.append(Problem(DATAPACKAGE, f"illisible comme JSON ({err})"))
        return {}
    used: dict[str, list[tuple[str, str]]] = {}
    for resource in resources:
        if isinstance(resource, dict):
            for ref in resource.get("catalogue", []) or []:
                used.setdefault(str(ref), []).append((resource.get("name", "?"), resource.get("title", "")))
    return used


def _unread(path: Path, folder_rel: str) -> str | None:
    """Why a file of an entry folder will not be read as an entry, or None when it will."""
    name = path.name
    if path.is_dir():
        return (f"dossier ignoré : les fiches doivent être directement dans {folder_rel}/, pas dans un "
                f"sous-dossier (déplacez ses fichiers .yml dans {folder_rel}/)")
    if name == ".gitkeep":
        return None
    if name.startswith("."):
        return "fichier caché ignoré (son nom commence par un point) : renommez-le ou supprimez-le"
    if path.suffix == ".yml":
        return None
    base = name.split(".", 1)[0]
    if path.suffix.lower() in (".yml", ".yaml") or ".yml" in name.lower() or ".yaml" in name.lower():
        return f"fichier ignoré : une fiche se termine par .yml en minuscules (renommez-le en {base}.yml)"
    return (f"fichier ignoré : seules les fiches .yml sont lues dans {folder_rel}/ (si c'est une fiche, "
            f"renommez-la en {base}.yml ; sinon, retirez-la de ce dossier)")


def _stray_files(root: Path, problems: list[Problem]) -> None:
    """YAML files under catalogue/ outside the entry folders: entries put in the wrong place."""
    base = root / CATALOGUE_DIR
    folders = {KINDS[k][0] for k in KINDS} | {TEMPLATES_DIR, "fiches"}
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(base)
        if rel.parts[0] in folders or not path.is_file():
            continue
        if path.suffix.lower() in (".yml", ".yaml"):
            problems.append(Problem(_relative(path, root),
                                    "fichier ignoré : une fiche de source va dans "
                                    f"{CATALOGUE_DIR}/sources/, une fiche de partenaire dans {CATALOGUE_DIR}/partners/"))


def _read_entry(kind: str, path: Path, rel: str, today: dt.date) -> tuple[Entry, list[Problem]]:
    file_id = path.stem
    own: list[Problem] = []
    if not ID_PATTERN.match(file_id):
        own.append(Problem(rel, f"le nom du fichier « {path.name} » n'est pas un identifiant valide "
                                f"(attendu : {ID_EXPECTED}, puis .yml)"))
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        own.append(Problem(rel, f"le fichier n'est pas enregistré en UTF-8 (octet {err.start}) : "
                                "enregistrez-le de nouveau en UTF-8"))
        return Entry(kind, file_id, rel, {}, valid=False), own
    except OSError as err:
        own.append(Problem(rel, f"le fichier ne peut pas être lu ({err.strerror or err.__class__.__name__})"))
        return Entry(kind, file_id, rel, {}, valid=False), own
    data, notes = read_yaml(text)
    own += [Problem(rel, message, line) for line, message in notes]
    unreadable = data is None and notes
    if not unreadable:
        own += [Problem(rel, message) for message in check_entry(kind, file_id, data, today)]
    entry = Entry(kind, file_id, rel, _normalise(data) if isinstance(data, dict) else {},
                  valid=not own and ID_PATTERN.match(file_id) is not None)
    return entry, own


def _entries(root: Path, kind: str, today: dt.date, problems: list[Problem]) -> dict[str, Entry]:
    folder = root / CATALOGUE_DIR / KINDS[kind][0]
    folder_rel = f"{CATALOGUE_DIR}/{KINDS[kind][0]}"
    entries: dict[str, Entry] = {}
    if not folder.is_dir():
        return entries
    for path in sorted(folder.iterdir()):
        rel = _relative(path, root)
        why = _unread(path, folder_rel)
        if why:
            problems.append(Problem(rel, why))
            continue
        if path.suffix != ".yml":
            continue
        try:
            entry, own = _read_entry(kind, path, rel, today)
        except Exception as err:  # noqa: BLE001 - a file must never stop the check with a traceback
            entry, own = Entry(kind, path.stem, rel, {}, valid=False), [
                Problem(rel, f"le fichier n'a pas pu être vérifié ({err.__class__.__name__}) : signalez-le à "
                             "l'équipe du livre avec ce fichier")]
        problems.extend(own)
        entries[entry.id] = entry
    return entries


def _cross_checks(cat: Catalogue) -> list[Problem]:
    problems: list[Problem] = []
    for kind, entries in (("source", cat.sources), ("partner", cat.partners)):
        by_id: dict[str, list[Entry]] = {}
        for entry in entries.values():
            declared = entry.data.get("id")
            if isinstance(declared, str):
                by_id.setdefault(declared, []).append(entry)
        for declared, holders in by_id.items():
            if len(holders) < 2:
                continue
            owner = next((e for e in holders if e.id == declared), holders[0])
            for entry in holders:
                if entry is not owner:
                    problems.append(Problem(entry.path, f"champ « id » : « {declared} » est déjà utilisé par "
                                                        f"{owner.path}"))
                    entry.valid = False

    labs = set(cat.labs)
    for entry in cat.sources.values():
        for i, lab in enumerate(entry.data.get("labs", []) or []):
            if isinstance(lab, str) and lab not in labs:
                known = ", ".join(cat.labs) or "aucun pour l'instant"
                problems.append(Problem(entry.path, f"champ « labs[{i}] » : {_quote(lab)} n'est pas un lab du livre "
                                                    f"(labs : {known})" + _suggest(lab, cat.labs)))
        for i, ref in enumerate(entry.data.get("partners", []) or []):
            if isinstance(ref, str) and ref not in cat.partners:
                problems.append(Problem(entry.path, f"champ « partners[{i}] » : {_quote(ref)} n'est pas un partenaire "
                                                    f"de l'annuaire (pas de fichier {CATALOGUE_DIR}/partners/{ref}.yml)"
                                        + _suggest(ref, cat.partners)))
    for entry in cat.partners.values():
        for i, ref in enumerate(entry.data.get("sources", []) or []):
            if isinstance(ref, str) and ref not in cat.sources:
                problems.append(Problem(entry.path, f"champ « sources[{i}] » : {_quote(ref)} n'est pas une source du "
                                                    f"catalogue (pas de fichier {CATALOGUE_DIR}/sources/{ref}.yml)"
                                        + _suggest(ref, cat.sources)))
    for ref, resources in cat.datasets.items():
        if ref not in cat.sources:
            for name, _ in resources:
                problems.append(Problem(DATAPACKAGE, f"ressource « {name} » : l'identifiant de catalogue « {ref} » "
                                                     "n'est pas une source du catalogue (pas de fichier "
                                                     f"{CATALOGUE_DIR}/sources/{ref}.yml)" + _suggest(ref, cat.sources)))
    return problems


def load_catalogue(root: Path | str, today: dt.date | None = None) -> Catalogue:
    """Read catalogue/sources and catalogue/partners under the book root, and check everything."""
    root = Path(root)
    today = today or dt.date.today()
    problems: list[Problem] = []
    sources = _entries(root, "source", today, problems)
    partners = _entries(root, "partner", today, problems)
    if (root / CATALOGUE_DIR).is_dir():
        _stray_files(root, problems)
    datasets = _read_datapackage(root, problems)
    cat = Catalogue(root, sources, partners, find_labs(root), datasets, problems, today)
    problems.extend(_cross_checks(cat))
    # File order, then the order the problems were found in: a file's messages stay together.
    order = {path: i for i, path in enumerate(sorted({p.path for p in problems}))}
    cat.problems = sorted(problems, key=lambda p: order[p.path])
    return cat


def check(root: Path | str, today: dt.date | None = None) -> list[Problem]:
    return load_catalogue(root, today).problems


def find_root(start: Path | str | None = None) -> Path | None:
    """The book root holding `start` (the current folder by default): the nearest folder, `start` or
    one of its parents, with a _config.yml and a catalogue/ folder. So the command line works from
    catalogue/, catalogue/sources/ or anywhere in the repository."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / CATALOGUE_DIR).is_dir():
            return folder
    return None


# --- the quality score ------------------------------------------------------------------------

@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    passed: bool
    detail: str


def quality(data: dict, today: dt.date) -> list[Criterion]:
    """udata-style metadata quality: one point per criterion met, each with the reason."""
    licence = data.get("licence", "")
    licence_terms = terms("source", "licence").get(licence, {})
    verified = data.get("licence_status") == "verified"
    if not licence_terms.get("open"):
        licence_detail = f"{licence_terms.get('label', licence)} : licence non ouverte"
    elif not verified:
        licence_detail = f"{licence_terms['label']} : licence à vérifier"
    else:
        licence_detail = f"{licence_terms['label']}, vérifiée"

    description = " ".join(str(data.get("description", "")).split())
    vintage = data.get("geography_vintage") or []
    temporal = data.get("temporal") or {}
    coverage_ok = bool(data.get("spatial_coverage") and data.get("granularity") and vintage
                       and temporal.get("start"))
    coverage_detail = (f"{data.get('spatial_coverage', '?')}, depuis {temporal.get('start', '?')}"
                       + (f" ; géographie {', '.join(vintage)}" if vintage else " ; millésime de géographie non précisé"))

    frequency = data.get("frequency", "unknown")
    formats = [d.get("format") for d in data.get("distributions", []) or [] if isinstance(d, dict)]
    format_terms = terms("source", "distributions.format")
    open_formats = [format_terms[f]["label"] for f in formats if format_terms.get(f, {}).get("open")]

    reviewed = data.get("last_reviewed")
    if _is_date(reviewed):
        age = (today - dt.date.fromisoformat(reviewed)).days
        fresh = 0 <= age <= FRESHNESS_DAYS
        when = "aujourd'hui" if age == 0 else (f"il y a {age} jour" + ("s" if age > 1 else ""))
        fresh_detail = f"revue le {reviewed}, {when}" + ("" if fresh else f" (plus de {FRESHNESS_DAYS} jours)")
    else:
        fresh, fresh_detail = False, "date de revue absente"

    return [
        Criterion("licence", "Licence ouverte et vérifiée", bool(licence_terms.get("open")) and verified,
                  licence_detail),
        Criterion("description", f"Description d'au moins {DESCRIPTION_MIN} caractères",
                  len(description) >= DESCRIPTION_MIN, f"{len(description)} caractères"),
        Criterion("coverage", "Couvertures géographique et temporelle précisées", coverage_ok, coverage_detail),
        Criterion("frequency", "Fréquence de mise à jour connue", frequency != "unknown",
                  label("source", "frequency", frequency)),
        Criterion("open_format", "Au moins un format ouvert", bool(open_formats),
                  ", ".join(dict.fromkeys(open_formats)) or "aucun format ouvert"),
        Criterion("freshness", f"Fiche revue depuis moins de {FRESHNESS_DAYS // 365 * 12} mois", fresh,
                  fresh_detail),
    ]


def score(data: dict, today: dt.date) -> tuple[int, int]:
    criteria = quality(data, today)
    return sum(c.passed for c in criteria), len(criteria)
