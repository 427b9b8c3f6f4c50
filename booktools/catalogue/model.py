"""Load and check the catalogue: one YAML file per source or partner, each against its schema.

The people who edit these files are resource-centre staff, often in the forge's web editor, so
every mistake must come back as one line naming the file, the field and what is expected
(`catalogue/sources/insee-rp.yml: field 'licence': 'etalab' is not one of …`), and every
problem of every file is reported at once. The same `load_catalogue()` serves the command line
(`python -m booktools.catalogue check`), the book's build and the tests.

YAML is read with every scalar kept as text: `2015`, `no` or `2024-05-01` mean what the schema
says they mean, not what YAML 1.1 guesses (a year turned into an integer, "no" into False).
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

import yaml
from jsonschema import Draft202012Validator, FormatChecker

from dataquartiers import data
from dataquartiers.schema_errors import errors_in_order, field_name

from .. import TOOLS_DIR

SCHEMA_DIR = TOOLS_DIR / "schemas"
CATALOGUE_DIR = "catalogue"
LABS_DIR = "labs"
DATAPACKAGE = "datasets/datapackage.json"

#: What `new` writes in every field to fill; `check` reports any that is left.
PLACEHOLDER = "À COMPLÉTER"

#: kind -> (folder under catalogue/, schema file)
KINDS = {
    "source": ("sources", "catalogue-source.schema.json"),
    "partner": ("partners", "catalogue-partner.schema.json"),
}
ID_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
ID_EXPECTED = "lower-case letters without accents, digits and hyphens, e.g. insee-filosofi-iris"
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
    message: str         # e.g. "field 'licence': 'etalab' is not one of …"
    line: int | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


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


# --- YAML reading -----------------------------------------------------------------------------

class _TextLoader(yaml.SafeLoader):
    """Safe loader that keeps every scalar as text and notes keys written twice."""

    def __init__(self, stream):
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []


# No implicit typing: a year stays "2015", "no" stays "no", a date stays "2025-01-31".
_TextLoader.yaml_implicit_resolvers = {}


def _mapping(loader: _TextLoader, node: yaml.MappingNode) -> dict:
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            loader.duplicates.append((str(key), key_node.start_mark.line + 1))
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_TextLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)

_SYNTAX_HINTS = [
    ("mapping values are not allowed", "a text that contains ': ' must be put between quotes, "
     "or a line is indented more than its field"),
    ("cannot start any token", "tabs are not allowed: indent with spaces"),
    ("could not find expected ':'", "a line lacks 'name: value', or a quote is not closed"),
    ("did not find expected key", "check the indentation: fields of one level start in the same column"),
    ("found unexpected end of stream", "a quote or a bracket is not closed"),
    ("found unknown escape character", "put the text between single quotes instead of double quotes"),
    ("expected <block end>", "check the indentation: fields of one level start in the same column"),
]


if getattr(yaml, "CSafeLoader", None) is not None:
    class _FastTextLoader(yaml.CSafeLoader):
        """The same rules on libyaml's parser, ten times faster: for files without a syntax error."""

        def __init__(self, stream):
            super().__init__(stream)
            self.duplicates: list[tuple[str, int]] = []

    _FastTextLoader.yaml_implicit_resolvers = {}
    _FastTextLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
else:  # pragma: no cover - PyYAML built without libyaml
    _FastTextLoader = None


def read_yaml(text: str) -> tuple[object, list[tuple[int | None, str]]]:
    """Parse YAML text. Returns (data, [(line, message)]): a syntax error gives data None.

    libyaml parses first; on a syntax error the pure-Python parser reads the file again, so that
    the message and its hint are the same on every machine.
    """
    if _FastTextLoader is not None:
        loader = _FastTextLoader(text)
        try:
            data = loader.get_single_data()
            return data, [(line, f"line {line}: field '{key}' is written twice (keep only one)")
                          for key, line in loader.duplicates]
        except yaml.YAMLError:
            pass
        finally:
            loader.dispose()
    loader = _TextLoader(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        what = err.problem or err.context or "invalid YAML"
        hint = next((h for key, h in _SYNTAX_HINTS if key in what), None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        message = f"{where}YAML syntax error: {what}" + (f" (hint: {hint})" if hint else "")
        return None, [(mark.line + 1 if mark else None, message)]
    except yaml.YAMLError as err:  # pragma: no cover - every parser error is a MarkedYAMLError
        return None, [(None, f"YAML syntax error: {err}")]
    finally:
        loader.dispose()
    problems = [(line, f"line {line}: field '{key}' is written twice (keep only one)")
                for key, line in loader.duplicates]
    return data, problems


# --- checking one entry -----------------------------------------------------------------------

def _is_url(value: object) -> bool:
    if not isinstance(value, str) or any(c.isspace() for c in value) or any(c in value for c in '<>"{}|\\^`'):
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
    "uri": "is not a valid web address (expected http:// or https:// followed by a domain name)",
    "date": "is not a valid date (expected YYYY-MM-DD, e.g. 2025-03-14)",
    "partial-date": "is not a valid year or date (expected YYYY, YYYY-MM or YYYY-MM-DD)",
}


@lru_cache(maxsize=None)
def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(schema(kind), format_checker=_FORMATS)


def _kind_of(value: object) -> str:
    if isinstance(value, dict):
        return "a group of fields"
    if isinstance(value, list):
        return "a list"
    return "a text"


_EXPECTED_TYPE = {
    "object": "a group of fields ('name: value' lines, indented under it)",
    "array": "a list (one '- value' line per item)",
    "string": "a text",
}


def _expected(node: dict) -> str:
    """What a field expects, in a few words, for the 'missing' messages."""
    if "enum" in node:
        return "one of " + ", ".join(node["enum"])
    if node.get("format") in ("uri",):
        return "a web address (https://…)"
    if node.get("format") == "date":
        return "a date YYYY-MM-DD"
    if node.get("format") == "partial-date":
        return "a year YYYY or a date YYYY-MM-DD"
    if node.get("type") == "array":
        items = node.get("items", {})
        return "a list" + (f" of values among {', '.join(items['enum'])}" if "enum" in items else "")
    if node.get("type") == "object":
        return "a group of fields: " + ", ".join(node.get("required", []))
    return "a text"


def _suggest(value: object, choices) -> str:
    close = difflib.get_close_matches(str(value), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _schema_messages(error) -> list[str]:
    """Turn one jsonschema error into one or more 'field …' sentences."""
    where = field_name(error.absolute_path)
    value = error.instance
    kind = error.validator
    if kind == "required":
        missing = [p for p in error.validator_value if not isinstance(value, dict) or p not in value]
        props = error.schema.get("properties", {})
        prefix = f"{where}." if where else ""
        return [f"field '{prefix}{p}': missing (required; expected {_expected(props.get(p, {}))})"
                for p in missing]
    if kind == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        extras = [k for k in value if k not in allowed]
        prefix = f"{where}." if where else ""
        return [f"field '{prefix}{k}': unknown field"
                + (_suggest(k, allowed) or f" (allowed fields: {', '.join(allowed)})") for k in extras]
    if kind == "enum":
        return [f"field '{where}': '{value}' is not one of {', '.join(error.validator_value)}"
                + _suggest(value, error.validator_value)]
    if kind == "type":
        got = f"{_kind_of(value)} ('{value}')" if isinstance(value, str) else _kind_of(value)
        return [f"field '{where}': expected {_EXPECTED_TYPE.get(error.validator_value, error.validator_value)}, got {got}"]
    if kind == "format":
        return [f"field '{where}': '{value}' {_FORMAT_EXPECTED.get(error.validator_value, 'has a wrong format')}"]
    if kind == "pattern":
        return [f"field '{where}': '{value}' is not a valid identifier (expected {ID_EXPECTED})"]
    if kind == "minLength":
        return [f"field '{where}': '{value}' is too short (at least {error.validator_value} characters)"]
    if kind == "minItems":
        return [f"field '{where}': the list is empty (at least {error.validator_value} expected)"]
    if kind == "uniqueItems":
        seen, twice = set(), []
        for item in value:
            key = json.dumps(item, sort_keys=True)
            if key in seen:
                twice.append(item)
            seen.add(key)
        return [f"field '{where}': '{item}' is listed twice" for item in twice]
    return [f"field '{where}': {error.message}"]  # pragma: no cover - other keywords are not used


def _drop_empty(value):
    """An empty value (`licence_note:` with nothing after it) counts as an absent field."""
    if isinstance(value, dict):
        return {k: _drop_empty(v) for k, v in value.items() if v != ""}
    if isinstance(value, list):
        return [_drop_empty(v) for v in value]
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


def check_entry(kind: str, file_id: str, data: object, today: dt.date) -> list[str]:
    """Every problem of one entry (without the checks that need the whole catalogue)."""
    if data is None:
        return ["the file is empty (copy a scaffold: python -m booktools.catalogue new "
                f"{kind} {file_id})"]
    if not isinstance(data, dict):
        return [f"expected fields ('name: value' lines) at the top of the file, found {_kind_of(data)}"]
    data = _drop_empty(data)
    messages: list[str] = []

    to_fill = _placeholders(data)
    for path in to_fill:
        node = subschema(kind, _schema_path(path)) if _schema_path(path) else {}
        if path and isinstance(path[-1], int) and node.get("type") == "array":
            node = node["items"]  # one item of a list: say what one item expects
        messages.append(f"field '{field_name(path)}': still says '{PLACEHOLDER}' "
                        f"(fill it in: {_expected(node)})")
    filled_in = [p for p in to_fill]

    def _under_placeholder(error) -> bool:
        return any(tuple(error.absolute_path)[:len(p)] == p for p in filled_in)

    errors = errors_in_order(_validator(kind), data)
    for error in errors:
        if not _under_placeholder(error):
            messages.extend(_schema_messages(error))

    declared = data.get("id")
    if isinstance(declared, str) and ID_PATTERN.match(declared) and ID_PATTERN.match(file_id) \
            and declared != file_id:
        messages.append(f"field 'id': '{declared}' does not match the file name "
                        f"(the id must equal the file name without .yml: '{file_id}')")

    for path, text in _texts(data):
        if path and path[-1] in ("url", "website", "landing_page", "download_url"):
            continue
        for pattern, what in ((_EMAIL, "an e-mail address"), (_PHONE, "a phone number")):
            found = pattern.search(text)
            if found:
                messages.append(f"field '{field_name(path)}': contains {what} ('{found.group()}'); "
                                "the catalogue lists organisations and their public pages only, "
                                "never personal contacts")

    if kind == "source":
        messages.extend(_source_rules(data, today))
    if kind == "partner":
        messages.extend(_dated("last_reviewed", data.get("last_reviewed"), today))
    return messages


def _dated(name: str, value: object, today: dt.date) -> list[str]:
    if _is_date(value) and dt.date.fromisoformat(value) > today:
        return [f"field '{name}': '{value}' is in the future (today is {today.isoformat()})"]
    return []


def _source_rules(data: dict, today: dt.date) -> list[str]:
    """Rules that tie fields together (a JSON Schema if/then would give an unreadable message)."""
    messages = []
    if data.get("licence_status") == "unverified" and not data.get("licence_note"):
        messages.append("field 'licence_note': missing (required when licence_status is "
                        "'unverified': say what is not certain about the licence)")
    elif data.get("licence") == "other-open" and not data.get("licence_note"):
        messages.append("field 'licence_note': missing (required when licence is 'other-open': "
                        "name the producer's conditions)")
    if data.get("access") in ("on_request", "restricted") and not data.get("access_note"):
        messages.append(f"field 'access_note': missing (required when access is "
                        f"'{data['access']}': say how to obtain the data)")
    temporal = data.get("temporal")
    if isinstance(temporal, dict) and _is_partial_date(temporal.get("start")) \
            and _is_partial_date(temporal.get("end")):
        # Compare on the common precision: "2015" and "2015-06" are not in conflict.
        start, end = temporal["start"], temporal["end"]
        width = min(len(start), len(end))
        if end[:width] < start[:width]:
            messages.append(f"field 'temporal.end': '{end}' is before temporal.start '{start}'")
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
    except (data.DatasetFileError, UnicodeDecodeError) as err:
        problems.append(Problem(DATAPACKAGE, f"cannot be read as JSON ({err})"))
        return {}
    used: dict[str, list[tuple[str, str]]] = {}
    for resource in package.get("resources", []):
        for ref in resource.get("catalogue", []) or []:
            used.setdefault(str(ref), []).append((resource.get("name", "?"), resource.get("title", "")))
    return used


def _entries(root: Path, kind: str, today: dt.date, problems: list[Problem]) -> dict[str, Entry]:
    folder = root / CATALOGUE_DIR / KINDS[kind][0]
    entries: dict[str, Entry] = {}
    if not folder.is_dir():
        return entries
    for path in sorted(folder.iterdir()):
        rel = _relative(path, root)
        if path.name.startswith(".") or path.is_dir():
            continue
        if path.suffix == ".yaml":
            problems.append(Problem(rel, f"use the .yml extension (rename the file to {path.stem}.yml)"))
            continue
        if path.suffix != ".yml":
            continue
        file_id = path.stem
        if not ID_PATTERN.match(file_id):
            problems.append(Problem(rel, f"the file name '{path.name}' is not a valid identifier "
                                         f"(expected {ID_EXPECTED}, then .yml)"))
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            problems.append(Problem(rel, f"the file is not UTF-8 text (byte {err.start}): "
                                         "save it again as UTF-8"))
            entries[file_id] = Entry(kind, file_id, rel, {}, valid=False)
            continue
        data, syntax = read_yaml(text)
        own = [Problem(rel, message, line) for line, message in syntax]
        if not any(m.startswith("line") and "YAML syntax" in m for _, m in syntax):
            own += [Problem(rel, message) for message in check_entry(kind, file_id, data, today)]
        problems.extend(own)
        entries[file_id] = Entry(kind, file_id, rel, _drop_empty(data) if isinstance(data, dict) else {},
                                 valid=not own and ID_PATTERN.match(file_id) is not None)
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
                    problems.append(Problem(entry.path, f"field 'id': '{declared}' is already used by {owner.path}"))
                    entry.valid = False

    labs = set(cat.labs)
    for entry in cat.sources.values():
        for i, lab in enumerate(entry.data.get("labs", []) or []):
            if isinstance(lab, str) and lab not in labs:
                known = ", ".join(cat.labs) or "none yet"
                problems.append(Problem(entry.path, f"field 'labs[{i}]': '{lab}' is not a lab of the book "
                                                    f"(labs: {known})" + _suggest(lab, cat.labs)))
        for i, ref in enumerate(entry.data.get("partners", []) or []):
            if isinstance(ref, str) and ref not in cat.partners:
                problems.append(Problem(entry.path, f"field 'partners[{i}]': '{ref}' is not a partner of the "
                                                    f"directory (no file {CATALOGUE_DIR}/partners/{ref}.yml)"
                                        + _suggest(ref, cat.partners)))
    for entry in cat.partners.values():
        for i, ref in enumerate(entry.data.get("sources", []) or []):
            if isinstance(ref, str) and ref not in cat.sources:
                problems.append(Problem(entry.path, f"field 'sources[{i}]': '{ref}' is not a source of the "
                                                    f"catalogue (no file {CATALOGUE_DIR}/sources/{ref}.yml)"
                                        + _suggest(ref, cat.sources)))
    for ref, resources in cat.datasets.items():
        if ref not in cat.sources:
            for name, _ in resources:
                problems.append(Problem(DATAPACKAGE, f"resource '{name}': catalogue id '{ref}' is not a source "
                                                     f"of the catalogue (no file {CATALOGUE_DIR}/sources/{ref}.yml)"
                                        + _suggest(ref, cat.sources)))
    return problems


def load_catalogue(root: Path | str, today: dt.date | None = None) -> Catalogue:
    """Read catalogue/sources and catalogue/partners under the book root, and check everything."""
    root = Path(root)
    today = today or dt.date.today()
    problems: list[Problem] = []
    sources = _entries(root, "source", today, problems)
    partners = _entries(root, "partner", today, problems)
    datasets = _read_datapackage(root, problems)
    cat = Catalogue(root, sources, partners, find_labs(root), datasets, problems, today)
    problems.extend(_cross_checks(cat))
    # File order, then the order the problems were found in: a file's messages stay together.
    order = {path: i for i, path in enumerate(sorted({p.path for p in problems}))}
    cat.problems = sorted(problems, key=lambda p: order[p.path])
    return cat


def check(root: Path | str, today: dt.date | None = None) -> list[Problem]:
    return load_catalogue(root, today).problems


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
