"""The ethics charter as data, and every lab bound to it.

The charter (`ethics-charter/charter.yml`) lists 6 themes and 15 principles, each scored 0–4 —
the grid under which the Data & Quartiers programme earned the Ekitia label. Each lab
`labs/<stem>.ipynb` carries its assessment beside it, `labs/<stem>.ethics.yml`: a score and a
justification per principle, the risks and how the lab handles them, the datasets it reads.

This module is used in four places, which is why it is one module with lazy imports:

- the build (`setup_sphinx`, registered by `dataquartiers.book`): checks, the charter pages
  generated from the YAML, the assessment appended to every lab page, the overview page;
- the command line (`python -m dataquartiers.ethics check`), run by `make test`;
- the tests (every generator and check is a plain function);
- the self-assessment notebook, in the browser too (Pyodide): so the top level imports only the
  standard library and PyYAML; jsonschema, docutils, Sphinx and ipywidgets are imported where
  they are needed.

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

import ast
import datetime as _dt
import html
import json
import os
import re
import sys
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Iterable, Mapping

import yaml

from . import PACKAGE_DIR

REPO_DIR = PACKAGE_DIR.parent
SCHEMA_DIR = PACKAGE_DIR / "schemas"
CHARTER_SCHEMA = SCHEMA_DIR / "ethics-charter.schema.json"
ASSESSMENT_SCHEMA = SCHEMA_DIR / "ethics-assessment.schema.json"

CHARTER_FILE = "ethics-charter/charter.yml"
LABS_DIR = "labs"
ASSESSMENT_SUFFIX = ".ethics.yml"
DATAPACKAGE_FILE = "datasets/datapackage.json"
MIN_SCORE, MAX_SCORE = 0, 4

#: Docnames of the generated pages (see `setup_sphinx`).
CHARTER_DOC = "ethics-charter/index"
OVERVIEW_DOC = "ethics-charter/evaluations"
THEME_DOC = "ethics-charter/themes/{id}"
#: A line `<!-- dq-ethics: NAME [ARG] -->` in a page of ethics-charter/ is replaced, at build
#: time, by what NAME generates. An HTML comment: a page read without the extension shows nothing.
MARKER = re.compile(r"^<!--\s*dq-ethics:\s*([a-z-]+)(?:\s+([a-z0-9-]+))?\s*-->[ \t]*$", re.M)

STATUS_LABELS = {"handled": "traité", "partial": "en partie traité", "open": "ouvert"}


class EthicsError(ValueError):
    """A charter or an assessment cannot be read; the message names the file."""


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


@dataclass(frozen=True)
class Theme:
    id: str
    title: str
    intro: str
    principles: tuple[Principle, ...]


def _by_id(items, wanted: str, what: str):
    """The item of `items` whose `id` is `wanted`; a KeyError listing the ids otherwise."""
    for item in items:
        if item.id == wanted:
            return item
    raise KeyError(f"unknown {what} '{wanted}' (the charter's {what}s are: {', '.join(i.id for i in items)})")


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
    raise FileNotFoundError("charter.yml not found (looked in: " + ", ".join(map(str, candidates))
                            + "). Set DQ_ETHICS_CHARTER to the path of ethics-charter/charter.yml.")


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


def _read_yaml(path: Path, shown: str):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EthicsError(f"{shown}: file not found") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise EthicsError(f"{shown}: not valid YAML{where}: {problem}") from None
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


def _schema(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _dotted(path: Iterable) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _json_type(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


#: Keys that an assessment must not retype: they are read from the data package.
_DERIVED_KEYS = {"licence", "license", "licenses", "licence_status", "synthetic", "personal_data",
                 "producer"}


def _schema_message(err, shown: str) -> str:
    """One jsonschema error as a sentence naming the file, the field and what is expected."""
    path = list(err.absolute_path)
    v, inst = err.validator, err.instance
    # Per-principle errors of an assessment: named after the principle.
    if path[:1] == ["principles"] and len(path) >= 2:
        pid, rest = path[1], path[2:]
        if rest == ["score"]:
            if v in ("minimum", "maximum"):
                return f"{shown}: principle '{pid}': score {inst} is out of range {MIN_SCORE}–{MAX_SCORE}"
            if inst is None:
                return f"{shown}: principle '{pid}': score is empty: give an integer {MIN_SCORE}–{MAX_SCORE}"
            return f"{shown}: principle '{pid}': score {inst!r} is not an integer {MIN_SCORE}–{MAX_SCORE}"
        if rest and rest[0] in ("justification", "to_improve") and v in ("pattern", "type"):
            return f"{shown}: principle '{pid}': {rest[0]} is empty"
        if not rest and v == "required":
            missing = [k for k in err.validator_value if k not in (inst or {})]
            return f"{shown}: principle '{pid}': field '{missing[0]}' is missing"
        if not rest and v == "additionalProperties":
            extra = sorted(set(inst) - {"score", "justification", "to_improve"})
            return (f"{shown}: principle '{pid}': field '{extra[0]}' is not allowed "
                    "(expected: score, justification, to_improve)")
        if not rest and v == "type":
            return f"{shown}: principle '{pid}': expected a mapping with a score and a justification, got {_json_type(inst)}"
    if path == ["principles"] and v == "required":
        missing = [k for k in err.validator_value if k not in inst]
        return (f"{shown}: principle '{missing[0]}': missing (every principle of the charter needs "
                "a score and a justification)")
    if path == ["principles"] and "propertyNames" in err.schema_path:
        return (f"{shown}: principle '{inst}': unknown (the charter's principles are: "
                f"{', '.join(err.validator_value)})")
    where = _dotted(path)
    if v == "required":
        missing = [k for k in err.validator_value if k not in inst]
        name = f"{where}.{missing[0]}" if where else missing[0]
        return f"{shown}: field '{name}' is missing"
    if v == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(k for k in inst if k not in allowed)
        name = f"{where}.{extra[0]}" if where else extra[0]
        hint = (" (licence and status are read from datasets/datapackage.json, not retyped)"
                if extra[0] in _DERIVED_KEYS else "")
        return f"{shown}: field '{name}' is not allowed{hint}; expected one of: {', '.join(allowed)}"
    if v == "pattern" and isinstance(inst, str) and not inst.strip():
        return f"{shown}: field '{where}' is empty"
    if v == "type":
        expected = err.validator_value
        return f"{shown}: field '{where}': expected {expected}, got {_json_type(inst)}"
    if v == "enum":
        return (f"{shown}: field '{where}': {inst!r} is not one of "
                f"{', '.join(repr(e) for e in err.validator_value)}")
    if v == "minItems":
        return f"{shown}: field '{where}': needs at least {err.validator_value} item(s)"
    return f"{shown}: field '{where or '(top)'}': {err.message}"


def _validate(data, schema: dict, shown: str) -> list[str]:
    try:
        import jsonschema
    except ImportError:  # Pyodide without jsonschema: the build has validated the files already
        return []
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    return list(dict.fromkeys(_schema_message(e, shown) for e in errors))


def charter_errors(data, shown: str) -> list[str]:
    """What is wrong with a charter document (schema, then ids, scale and reference)."""
    errors = _validate(data, _schema(CHARTER_SCHEMA), shown)
    if errors or not isinstance(data, dict):
        return errors or [f"{shown}: expected a mapping at the top level"]
    levels = [lv["level"] for lv in data["scale"]]
    if levels != list(range(MIN_SCORE, MAX_SCORE + 1)):
        errors.append(f"{shown}: field 'scale': levels must be {MIN_SCORE}, 1, 2, 3, {MAX_SCORE} "
                      f"in this order, found {', '.join(map(str, levels))}")
    seen: dict[str, str] = {}
    for t in data["themes"]:
        for item, kind in [(t, "theme")] + [(p, "principle") for p in t["principles"]]:
            if item["id"] in seen:
                errors.append(f"{shown}: {kind} id '{item['id']}' is used twice "
                              f"(already a {seen[item['id']]} id)")
            seen[item["id"]] = kind
    ref = data.get("reference")
    if ref:
        principles = [p["id"] for t in data["themes"] for p in t["principles"]]
        themes = {t["id"]: [p["id"] for p in t["principles"]] for t in data["themes"]}
        for key, known in (("principle_scores", principles), ("theme_averages", list(themes))):
            for k in ref[key]:
                if k not in known:
                    errors.append(f"{shown}: field 'reference.{key}.{k}': unknown id "
                                  f"(expected one of: {', '.join(known)})")
            for k in known:
                if k not in ref[key]:
                    errors.append(f"{shown}: field 'reference.{key}.{k}' is missing")
        if not errors:  # the published theme averages must agree with the principle scores
            for tid, pids in themes.items():
                mean = sum(ref["principle_scores"][p] for p in pids) / len(pids)
                if abs(mean - ref["theme_averages"][tid]) > 0.05 + 1e-9:
                    errors.append(f"{shown}: field 'reference.theme_averages.{tid}': "
                                  f"{ref['theme_averages'][tid]} does not match the mean of its "
                                  f"principle scores ({mean:.2f})")
    return errors


def charter_from_data(data: dict, path: Path | None = None) -> Charter:
    themes = tuple(
        Theme(id=t["id"], title=t["title"].strip(), intro=t["intro"].strip(),
              principles=tuple(Principle(id=p["id"], title=p["title"].strip(),
                                         definition=p["definition"].strip(),
                                         questions=tuple(q.strip() for q in p["questions"]),
                                         theme_id=t["id"])
                               for p in t["principles"]))
        for t in data["themes"])
    return Charter(title=data["title"], version=str(data["version"]), label=data["label"],
                   frameworks=tuple(data["frameworks"]),
                   scale=tuple(Level(lv["level"], lv["label"].strip(), lv["meaning"].strip())
                               for lv in data["scale"]),
                   themes=themes, reference=data.get("reference"), path=path)


def load_charter(path: Path | str | None = None, *, validate: bool = True) -> Charter:
    """Read and check the charter; raise EthicsError listing every problem."""
    path = Path(path) if path else find_charter()
    shown = _display(path, None)
    data = _read_yaml(path, shown)
    if validate:
        errors = charter_errors(data, shown)
        if errors:
            raise EthicsError("\n".join(errors))
    return charter_from_data(data, path)


# --- what a lab reads ------------------------------------------------------------------------

_DATA_MODULE = "dataquartiers.data"


def _cell_code(source: str) -> str:
    """A code cell as Python: IPython magics (`%time`, `!ls`) turned into plain calls."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        return TransformerManager().transform_cell(source)
    except ImportError:  # without IPython: drop the magic lines, they never call load()
        return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))


def _notebook_cells(notebook: Path) -> list[dict]:
    try:
        return json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise EthicsError(f"{notebook}: not a readable notebook ({err})") from None


_LOAD = _DATA_MODULE + ".load"


def _bind_imports(node, names: dict[str, str], package: str | None = None) -> None:
    """Record what an import statement binds: local name → qualified name (dataquartiers only)."""
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        if node.level and package:  # `from .data import load` inside the package
            module = package + ("." + module if module else "")
        if module == "dataquartiers" or module.startswith("dataquartiers."):
            for a in node.names:
                names[a.asname or a.name] = f"{module}.{a.name}"
    elif isinstance(node, ast.Import):
        for a in node.names:
            if a.name == "dataquartiers" or a.name.startswith("dataquartiers."):
                if a.asname:
                    names[a.asname] = a.name
                else:
                    names["dataquartiers"] = "dataquartiers"


def _qualified(func, names: dict[str, str]) -> str | None:
    """`load` / `data.load` / `dataquartiers.layers.qpv_contours` → its qualified name, if known."""
    if isinstance(func, ast.Name):
        return names.get(func.id)
    if isinstance(func, ast.Attribute):
        base = _qualified(func.value, names)
        return f"{base}.{func.attr}" if base else None
    return None


def _string_literals(node) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def package_readers(dataset_names: Iterable[str], package_dir: Path = PACKAGE_DIR) -> dict[str, set[str]]:
    """The datasets each function of the package may read: `{"dataquartiers.layers.qpv_contours": {...}}`.

    Found statically: a function that calls `load()` (directly or through another function of
    the package) may read every dataset name written in its body or in the module constants it
    uses. So `qpv_contours(territory)`, which tries each QPV contour dataset in turn, may read
    all of them: a lab that calls it must declare them all, since a trainee who changes the
    territory reads another one. `dataquartiers.data` itself is the loader: the reference tables
    its territory filter reads (communes, EPCI) are not counted.
    """
    known = set(dataset_names)
    functions: dict[str, dict] = {}
    for path in sorted(Path(package_dir).glob("*.py")):
        module = f"dataquartiers.{path.stem}" if path.stem != "__init__" else "dataquartiers"
        if module in (_DATA_MODULE, __name__):
            continue
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError):
            continue
        names: dict[str, str] = {}
        constants: dict[str, set[str]] = {}
        for node in tree.body:
            _bind_imports(node, names, "dataquartiers")
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        constants[target.id] = _string_literals(node.value) & known
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names.setdefault(node.name, f"{module}.{node.name}")
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            own = _string_literals(node) & known
            own |= {d for n in ast.walk(node) if isinstance(n, ast.Name) and n.id in constants
                    for d in constants[n.id]}
            calls = {_qualified(n.func, names) for n in ast.walk(node) if isinstance(n, ast.Call)}
            functions[f"{module}.{node.name}"] = {"own": own, "calls": {c for c in calls if c}}
    may_load = {f for f, info in functions.items() if _LOAD in info["calls"]}
    changed = True
    while changed:  # a function that calls one that loads, loads
        changed = False
        for f, info in functions.items():
            if f not in may_load and info["calls"] & may_load:
                may_load.add(f)
                changed = True
    reads = {f: set(info["own"]) if f in may_load else set() for f, info in functions.items()}
    changed = True
    while changed:  # and reads what its callees read
        changed = False
        for f, info in functions.items():
            extra = set().union(*(reads.get(c, set()) for c in info["calls"])) - reads[f]
            if extra:
                reads[f] |= extra
                changed = True
    return {f: r for f, r in reads.items() if r}


def datasets_read_by(notebook: Path, shown: str | None = None,
                     readers: Mapping[str, set[str]] | None = None) -> tuple[dict[str, str], list[str]]:
    """The datasets a notebook reads, found without running it.

    Returns `{dataset name: where it is first read}` ("cell 7", or "cell 13, via
    dataquartiers.layers.qpv_contours") and the problems found. A call counts when it is
    `dataquartiers.data.load("<name>")`, however imported (`from dataquartiers.data import load
    [as x]`, `from dataquartiers import data`, `import dataquartiers.data as d`) — `json.load` is
    not a dataset — or a call to a function of the package that reads datasets (`readers`, see
    `package_readers`), or a call to a function of the notebook that hands one of its parameters
    to `load()`. A dataset name computed at run time cannot be checked: it is refused.
    """
    shown = shown or str(notebook)
    readers = readers or {}
    found: dict[str, str] = {}
    problems: list[str] = []
    trees: list[tuple[int, ast.AST]] = []
    for number, cell in enumerate(_notebook_cells(notebook), start=1):
        if cell.get("cell_type") != "code":
            continue
        try:
            trees.append((number, ast.parse(_cell_code("".join(cell.get("source", []))))))
        except SyntaxError as err:
            problems.append(f"{shown}: cell {number}: not valid Python (line {err.lineno}): {err.msg}")
    names: dict[str, str] = {}
    for _, tree in trees:
        for node in ast.walk(tree):
            _bind_imports(node, names)

    def dataset_arg(call: ast.Call, position: int, keyword: str):
        if len(call.args) > position:
            return call.args[position]
        return next((k.value for k in call.keywords if k.arg == keyword), None)

    # A function of the notebook that passes one of its parameters to load() (a small wrapper,
    # e.g. "load if the territory is covered"): its calls name the dataset instead.
    wrappers: dict[str, tuple[int, str]] = {}
    inside_wrappers: set[int] = set()
    for _, tree in trees:
        for func in (n for n in tree.body if isinstance(n, ast.FunctionDef)):
            params = [a.arg for a in func.args.posonlyargs + func.args.args]
            for node in ast.walk(func):
                if isinstance(node, ast.Call) and _qualified(node.func, names) == _LOAD:
                    arg = dataset_arg(node, 0, "name")
                    if isinstance(arg, ast.Name) and arg.id in params:
                        wrappers[func.name] = (params.index(arg.id), arg.id)
                        inside_wrappers.add(id(node))
    for number, tree in trees:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or id(node) in inside_wrappers:
                continue
            qualified = _qualified(node.func, names)
            if qualified == _LOAD or (isinstance(node.func, ast.Name) and node.func.id in wrappers):
                position, keyword = (0, "name") if qualified == _LOAD else wrappers[node.func.id]
                arg = dataset_arg(node, position, keyword)
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.setdefault(arg.value, f"cell {number}")
                else:
                    problems.append(
                        f"{shown}: cell {number}: load() is called with a computed dataset name; write the "
                        "name as a string literal so that the ethics check can see which data the lab reads")
            elif qualified in readers:
                for name in sorted(readers[qualified]):
                    found.setdefault(name, f"cell {number}, via {qualified}")
    return found, problems


def notebook_title(notebook: Path) -> str:
    """The first level-1 heading of the notebook, else its file name."""
    for cell in _notebook_cells(notebook):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", [])).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return Path(notebook).stem


def short_title(title: str) -> str:
    """"Prise en main : une commune, ses IRIS…" → "Prise en main" (column headers)."""
    return re.split(r"\s+:\s+", title, maxsplit=1)[0].strip()


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
        return short_title(self.title)

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
                     root: Path | None = None, readers: Mapping[str, set[str]] | None = None
                     ) -> tuple[LabAssessment | None, list[str]]:
    """Check one lab's assessment against the charter, its notebook and the data package.

    `readers`: `package_readers(resources)`, computed once by the caller that checks many labs.
    """
    shown, nb_shown = _display(path, root), _display(notebook, root)
    try:
        data = _read_yaml(path, shown)
    except EthicsError as err:
        return None, [str(err)]
    if not isinstance(data, dict):
        return None, [f"{shown}: expected a mapping (summary, assessed, datasets, principles, risks), "
                      f"got {_json_type(data)}"]
    errors = _validate(data, assessment_schema(charter), shown)
    read, problems = datasets_read_by(notebook, nb_shown,
                                      package_readers(resources) if readers is None else readers)
    errors += problems
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
    return LabAssessment(stem=Path(notebook).stem, title=notebook_title(notebook), path=Path(path),
                         notebook=Path(notebook), data=data, resources=found_resources), []


@dataclass
class Report:
    """Everything the build and the command line need: the charter, the valid assessments, errors."""

    root: Path
    charter: Charter | None
    assessments: list[LabAssessment]
    errors: list[str]
    labs: list[Path] = field(default_factory=list)


def lab_notebooks(root: Path) -> list[Path]:
    return sorted(p for p in (Path(root) / LABS_DIR).glob("*.ipynb"))


def _package_resources(root: Path, datasets_folder: Path | None) -> tuple[dict[str, dict], list[str]]:
    folder = Path(datasets_folder) if datasets_folder else Path(root) / "datasets"
    path = folder / "datapackage.json"
    shown = _display(path, root)
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
        return {r["name"]: r for r in package["resources"]}, []
    except FileNotFoundError:
        return {}, [f"{shown}: not found (the ethics check reads the datasets' licences there)"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        return {}, [f"{shown}: cannot be read as a data package ({err})"]


def check_repository(root: Path | str = REPO_DIR, *, charter_path: Path | None = None,
                     datasets_folder: Path | None = None) -> Report:
    """Check the charter and the assessment of every `labs/*.ipynb` under `root`."""
    root = Path(root)
    charter_path = Path(charter_path) if charter_path else root / CHARTER_FILE
    labs = lab_notebooks(root)
    try:
        charter = load_charter(charter_path)
    except (EthicsError, FileNotFoundError) as err:
        return Report(root, None, [], str(err).splitlines(), labs)
    resources, errors = _package_resources(root, datasets_folder)
    readers = package_readers(resources)
    assessments = []
    for notebook in labs:
        path = assessment_path(notebook)
        if not path.exists():
            errors.append(f"{_display(notebook, root)}: no ethics assessment: create "
                          f"{_display(path, root)} (python -m dataquartiers.ethics new "
                          f"{_display(notebook, root)})")
            continue
        assessment, problems = check_assessment(path, notebook, charter, resources, root, readers)
        errors += problems
        if assessment:
            assessments.append(assessment)
    for path in sorted((root / LABS_DIR).glob("*" + ASSESSMENT_SUFFIX)):
        notebook = path.with_name(path.name[: -len(ASSESSMENT_SUFFIX)] + ".ipynb")
        if not notebook.exists():
            errors.append(f"{_display(path, root)}: no lab {_display(notebook, root)} beside it")
    return Report(root, charter, assessments, errors, labs)


# --- averages and numbers --------------------------------------------------------------------

def fmt_number(value: float | None, decimals: int = 1) -> str:
    """3.85 → "3,9": French decimal comma, halves rounded up (not to even)."""
    if value is None:
        return "–"
    quantum = Decimal(1).scaleb(-decimals)
    return str(Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)).replace(".", ",")


def _mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def theme_averages(charter: Charter, scores: Mapping[str, float | None]) -> dict[str, float | None]:
    """The mean score of each theme over its scored principles (None if none is scored)."""
    return {t.id: _mean(scores.get(p.id) for p in t.principles) for t in charter.themes}


def principle_averages(charter: Charter, assessments: list[LabAssessment]) -> dict[str, float | None]:
    """The mean over the labs of each principle's score."""
    return {pid: _mean(a.score(pid) for a in assessments) for pid in charter.principle_ids}


def overall_average(charter: Charter, scores: Mapping[str, float | None]) -> float | None:
    return _mean(scores.get(pid) for pid in charter.principle_ids)


# --- pages (MyST markdown, generated at build time) --------------------------------------------

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
    """Register the ethics hooks on the book's Sphinx application (called by dataquartiers.book)."""
    app.connect("builder-inited", _on_builder_inited)
    app.connect("source-read", _on_source_read)
    app.connect("env-get-outdated", _on_env_get_outdated)
    app.add_transform(_assessment_transform_class())


# --- command line ---------------------------------------------------------------------------------

def skeleton(charter: Charter, notebook: Path, root: Path | None = None) -> str:
    """An assessment to fill in for a new lab: every principle, the datasets it reads."""
    read, _ = datasets_read_by(notebook, readers=package_readers(_package_resources(root or REPO_DIR, None)[0]))
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

    parser = argparse.ArgumentParser(prog="python -m dataquartiers.ethics",
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
    print(f"{_display(target, args.root)}: created; fill it in, then run `python -m dataquartiers.ethics check`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
