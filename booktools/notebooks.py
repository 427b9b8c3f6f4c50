"""The labs as the tooling sees them: which notebooks, what they say, what they import and read.

One analysis, used by the lab zips (`bundles`), the JupyterLite contents (`lite`), the ethics
check (`ethics`) and the browser checks (tests): nothing else parses a notebook's code.

Which datasets a lab reads is found **without running it**, by following its code cells in the
order a trainee runs them (cell after cell, statement after statement):

- `load("name", …)` and `resource("name")` of `dataquartiers.data`, however imported
  (`from dataquartiers.data import load as charger`, `from dataquartiers import data`,
  `import dataquartiers.data as d`); `json.load` is not a dataset;
- a name holds the strings it was last bound to *at that point* of the notebook: a literal, a
  tuple or list of literals, another such name, or the items of a `for` loop (or comprehension)
  over them. Rebinding a name to anything else forgets it, so an unrelated loop variable of the
  same name further down changes nothing;
- a function defined in the notebook is followed where it is called, its parameters bound to the
  call's arguments (a small wrapper `charger(nom)` around `load(nom)` names its dataset at each
  call); a function never called is followed once at the end, with what is bound then;
- a function of the labs' library that reads datasets says so itself (`dataquartiers.data.reads`):
  `qpv_contours(...)` may read every resource its declaration selects in the data package, so a lab
  that calls it carries them all (a trainee who changes the territory reads another one).

A dataset name that cannot be known this way (computed at run time, typed by the user) is refused
with a message naming the cell: write it as a string. A name absent from the data package too.
"""

from __future__ import annotations

import ast
import copy
import importlib
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from . import REPO_DIR

LABS_DIR = "labs"
DATAPACKAGE_FILE = "datasets/datapackage.json"
#: The tables `load(…, territory=…)` reads to know which communes a territory holds.
TERRITORY_TABLES = ("communes", "epci_communes")
#: The loader's functions whose first argument (or `name=`) is a dataset of the data package.
DATA_FUNCTIONS = {"dataquartiers.data.load": "load", "dataquartiers.data.resource": "resource"}


class NotebookError(ValueError):
    """A notebook cannot be read or analysed; the message names the file and the cell."""


# --- the labs and their text ----------------------------------------------------------------

def lab_notebooks(repo: Path = REPO_DIR) -> list[Path]:
    """Every lab of the book: `labs/*.ipynb`, sorted."""
    return sorted(Path(repo).glob(f"{LABS_DIR}/*.ipynb"))


def read(path: Path) -> dict:
    """A notebook as JSON (nbformat 4), with a French message when it cannot be read."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotebookError(f"{path} : fichier introuvable") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise NotebookError(f"{path} : ce n'est pas un notebook lisible ({err})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{path} : ce n'est pas un notebook (pas de liste « cells »)")
    return nb


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return src if isinstance(src, str) else "".join(src)


def title(nb: dict, default: str = "") -> str:
    """The first level-1 heading of the notebook, else `default`."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in source(cell).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return default


def short_title(text: str) -> str:
    """"Prise en main : une commune, ses IRIS…" → "Prise en main" (column headers)."""
    return re.split(r"\s+:\s+", text, maxsplit=1)[0].strip()


def parameters(nb: dict) -> str:
    """The source of the cell tagged `parameters` (what a trainee changes), or ""."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return source(cell)
    return ""


def without_outputs(nb: dict) -> dict:
    """A copy of the notebook as it is published: no outputs, no execution counts."""
    clean = copy.deepcopy(nb)
    for cell in clean["cells"]:
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return clean


def python_source(text: str) -> str:
    """A code cell as plain Python: IPython magics (`%time`, `!ls`) turned into calls or blanked."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(text)
    except ImportError:
        return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in text.splitlines())


@dataclass(frozen=True)
class CodeCell:
    number: int  # position in the notebook, from 1 (markdown cells count)
    source: str  # as written
    tree: ast.Module | None  # None when it is not valid Python
    error: str = ""


def code_cells(nb: dict) -> list[CodeCell]:
    """The code cells, parsed (magics turned into plain Python)."""
    cells = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        text = source(cell)
        try:
            cells.append(CodeCell(number, text, ast.parse(python_source(text))))
        except SyntaxError as err:
            cells.append(CodeCell(number, text, None, f"ligne {err.lineno} : {err.msg}"))
    return cells


def imports(nb: dict) -> set[str]:
    """Top-level modules the notebook imports (absolute imports)."""
    found = set()
    for cell in code_cells(nb):
        for node in ast.walk(cell.tree) if cell.tree else ():
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


# --- the data package -----------------------------------------------------------------------

def reduced_package(package: dict, names) -> dict:
    """The data package with only the named resources (order kept)."""
    keep = set(names)
    reduced = copy.deepcopy(package)
    reduced["resources"] = [r for r in package["resources"] if r.get("name") in keep]
    return reduced


def library_readers(package: dict) -> dict[str, frozenset[str]]:
    """`{"dataquartiers.layers.qpv_contours": {...}}`: what each reading function of the labs'
    library may read in this data package, from the function's own declaration
    (`@dataquartiers.data.reads(...)`): names, or a test on each resource's descriptor."""
    resources = package.get("resources", [])
    found = {}
    for qualified, (names, where) in _declared_readers().items():
        selected = set(names) | {r.get("name") for r in resources if where is not None and where(r)}
        found[qualified] = frozenset(selected)
    return found


@lru_cache(maxsize=1)
def _declared_readers() -> dict[str, tuple]:
    import pkgutil

    import dataquartiers

    declared = {}
    for info in pkgutil.iter_modules(dataquartiers.__path__, "dataquartiers."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            spec = getattr(obj, "dq_reads", None)
            if spec is not None and getattr(obj, "__module__", None) == info.name:
                declared[f"{info.name}.{name}"] = spec
    return declared


# --- which datasets a lab reads ---------------------------------------------------------------

@dataclass
class DataNeeds:
    """What a lab reads: `reads` {dataset: where it is first read, "cellule 7" or "cellule 13, via
    dataquartiers.layers.qpv_contours"}, the data files it opens directly, whether it filters by
    territory, and the problems found (a dataset that cannot be known, or is unknown)."""

    reads: dict[str, str] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    territory: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def resources(self) -> list[str]:
        return sorted(self.reads)

    def carried(self, known: set[str]) -> list[str]:
        """The resources a copy of the lab must carry: what it reads, plus the territory tables
        when it filters by territory (so that `territory=` works for any code)."""
        names = set(self.reads)
        if self.territory:
            names |= set(TERRITORY_TABLES) & known
        return sorted(names)


_UNKNOWN = None  # a name bound to something that is not a known set of strings


class _Analysis:
    def __init__(self, known: set[str], readers: dict[str, frozenset[str]], where: str):
        self.known, self.readers, self.where = known, readers, where
        self.needs = DataNeeds()
        self.functions: dict[str, ast.FunctionDef] = {}
        self.called: set[str] = set()
        self.depth = 0
        self.cell = 0

    # names → strings ------------------------------------------------------------------------
    def strings(self, node, env) -> frozenset[str] | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return frozenset([node.value])
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            parts = [self.strings(e, env) for e in node.elts]
            return None if any(p is None for p in parts) else frozenset().union(*parts)
        if isinstance(node, ast.Name):
            value = env.get(node.id)
            return value if isinstance(value, frozenset) else None
        return None

    def qualified(self, node, env) -> str | None:
        """`load` / `data.load` / `dataquartiers.layers.qpv_contours` → the imported name."""
        if isinstance(node, ast.Name):
            value = env.get(node.id)
            return value if isinstance(value, str) else None
        if isinstance(node, ast.Attribute):
            base = self.qualified(node.value, env)
            return f"{base}.{node.attr}" if base else None
        return None

    def bind(self, target, value_node, env) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = self.strings(value_node, env) if value_node is not None else _UNKNOWN
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = value_node.elts if isinstance(value_node, (ast.Tuple, ast.List)) and \
                len(value_node.elts) == len(target.elts) else [None] * len(target.elts)
            for t, v in zip(target.elts, values):
                self.bind(t, v, env)
        # attributes and subscripts bind no name

    def bind_items(self, target, iterable, env) -> None:
        """`for target in iterable`: the target holds the items of a known collection of strings."""
        items = self.strings(iterable, env)
        if isinstance(target, ast.Name):
            env[target.id] = items
        else:
            for name in (n for n in ast.walk(target) if isinstance(n, ast.Name)):
                env[name.id] = _UNKNOWN

    # statements, in order -----------------------------------------------------------------
    def run(self, statements, env) -> None:
        for statement in statements:
            self.statement(statement, env)

    def statement(self, node, env) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self.imports(node, env)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.expressions(node.decorator_list + node.args.defaults + node.args.kw_defaults, env)
            self.functions[node.name] = node
            env[node.name] = _UNKNOWN
        elif isinstance(node, ast.ClassDef):
            self.expressions(node.bases + node.decorator_list, env)
            self.run(node.body, dict(env))
            env[node.name] = _UNKNOWN
        elif isinstance(node, ast.Assign):
            self.expressions([node.value], env)
            for target in node.targets:
                self.expressions([target], env)
                self.bind(target, node.value, env)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            self.expressions([node.value] if node.value is not None else [], env)
            self.bind(node.target, node.value if isinstance(node, ast.AnnAssign) else None, env)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self.expressions([node.iter], env)
            self.bind_items(node.target, node.iter, env)
            self.run(node.body, env)
            self.run(node.orelse, env)
        elif isinstance(node, (ast.While, ast.If)):
            self.expressions([node.test], env)
            self.run(node.body, env)
            self.run(node.orelse, env)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            self.expressions([i.context_expr for i in node.items], env)
            for item in node.items:
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, None, env)
            self.run(node.body, env)
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            self.run(node.body, env)
            for handler in node.handlers:
                if handler.name:
                    env[handler.name] = _UNKNOWN
                self.run(handler.body, env)
            self.run(node.orelse, env)
            self.run(node.finalbody, env)
        elif isinstance(node, ast.Match):
            self.expressions([node.subject], env)
            for case in node.cases:
                self.run(case.body, env)
        else:  # Expr, Return, Delete, Raise, Assert, Global…: their expressions only
            self.expressions([c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)], env)

    def imports(self, node, env) -> None:
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                for a in node.names:
                    env[a.asname or a.name] = f"{node.module}.{a.name}"
        else:
            for a in node.names:
                if a.asname:
                    env[a.asname] = a.name
                else:
                    env[a.name.split(".")[0]] = a.name.split(".")[0]

    # expressions: the calls that read data --------------------------------------------------
    def expressions(self, nodes, env) -> None:
        for node in nodes:
            self.expression(node, env)

    def expression(self, node, env) -> None:
        if node is None:
            return
        if isinstance(node, ast.Lambda):
            return  # a lambda's body runs when called: not followed
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            inner = dict(env)
            for gen in node.generators:
                self.expression(gen.iter, inner)
                self.bind_items(gen.target, gen.iter, inner)
                self.expressions(gen.ifs, inner)
            parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
            self.expressions(parts, inner)
            return
        if isinstance(node, ast.Call):
            self.call(node, env)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expression(child, env)
            elif isinstance(child, ast.keyword):
                self.expression(child.value, env)
            elif isinstance(child, ast.comprehension):
                pass  # handled above

    def here(self, via: str = "") -> str:
        return f"cellule {self.cell}" + (f", via {via}" if via else "")

    def call(self, node: ast.Call, env) -> None:
        qualified = self.qualified(node.func, env)
        if qualified in DATA_FUNCTIONS:
            self.data_call(node, env, DATA_FUNCTIONS[qualified])
        elif qualified in self.readers:
            for name in sorted(self.readers[qualified]):
                self.needs.reads.setdefault(name, self.here(qualified))
            if node.args or node.keywords:
                self.needs.territory = True
        elif isinstance(node.func, ast.Name) and node.func.id in self.functions and env.get(node.func.id) is _UNKNOWN:
            self.follow(self.functions[node.func.id], node, env)

    def data_call(self, node: ast.Call, env, function: str) -> None:
        arg = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "name"), None)
        shown = ast.unparse(node)
        if arg is None:
            self.needs.problems.append(f"{self.where}, {self.here()} : {function}() est appelé sans nom de jeu de données")
            return
        names = self.strings(arg, env)
        if names is None:
            self.needs.problems.append(
                f"{self.where}, {self.here()} : le jeu de données de `{shown}` ne peut pas être connu sans "
                f"exécuter le lab ; écrivez son nom entre guillemets ({function}(\"nom\", …)) ou dans une "
                "variable qui le contient")
            return
        unknown = sorted(n for n in names if n not in self.known)
        if unknown:
            self.needs.problems.append(
                f"{self.where}, {self.here()} : {function}() d'un jeu de données absent de {DATAPACKAGE_FILE} : "
                + ", ".join(unknown))
        for name in sorted(names - set(unknown)):
            self.needs.reads.setdefault(name, self.here())
        if function == "load" and (len(node.args) > 1 or any(k.arg == "territory" for k in node.keywords)):
            self.needs.territory = True

    def follow(self, func: ast.FunctionDef, call: ast.Call | None, env) -> None:
        """Run a function of the notebook: its parameters hold the call's arguments."""
        if self.depth > 8:
            return
        self.called.add(func.name)
        inner = dict(env)
        params = [a.arg for a in func.args.posonlyargs + func.args.args]
        for p in params + [a.arg for a in func.args.kwonlyargs]:
            inner[p] = _UNKNOWN
        defaults = func.args.defaults
        for p, d in zip(params[len(params) - len(defaults):], defaults):
            inner[p] = self.strings(d, env)
        if call is not None:
            for p, a in zip(params, call.args):
                inner[p] = self.strings(a, env)
            for k in call.keywords:
                if k.arg:
                    inner[k.arg] = self.strings(k.value, env)
        self.depth += 1
        try:
            self.run(func.body, inner)
        finally:
            self.depth -= 1


def datasets_read(nb: dict, package: dict, where: str = "notebook") -> DataNeeds:
    """What a lab reads, found statically (see the module's docstring)."""
    known = {r.get("name") for r in package.get("resources", [])}
    analysis = _Analysis(known, library_readers(package), where)
    env: dict = {}
    for cell in code_cells(nb):
        analysis.cell = cell.number
        if cell.tree is None:
            analysis.needs.problems.append(f"{where}, cellule {cell.number} : ce n'est pas du Python valide ({cell.error})")
            continue
        for node in ast.walk(cell.tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    re.search(r"(^|/)datasets/[^\s]+\.\w+$", node.value):
                path = node.value.split("datasets/", 1)[1]
                if path not in analysis.needs.files:
                    analysis.needs.files.append(path)
        analysis.run(cell.tree.body, env)
    for name, func in analysis.functions.items():  # defined, never called: followed once
        if name not in analysis.called:
            analysis.follow(func, None, env)
    return analysis.needs


def shown_path(path: Path, repo: Path = REPO_DIR) -> str:
    """A path as messages show it: relative to the book's root when it is inside."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path(repo).resolve()).as_posix()
    except ValueError:
        return str(path)


def lab_data_needs(notebook: Path, repo: Path = REPO_DIR, package: dict | None = None) -> DataNeeds:
    """What the lab `notebook` reads in the book's data package."""
    if package is None:
        from dataquartiers import data  # datapackage.json's one parser (imports pandas: only when needed)

        package = data.package(Path(repo) / "datasets")
    return datasets_read(read(notebook), package, where=shown_path(notebook, repo))
