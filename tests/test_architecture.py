"""Two packages, one rule: the labs' library never depends on the build tooling.

`dataquartiers/` is what trainees get (in the browser, in every lab zip); `booktools/` builds,
checks and packs the book. The tooling may import the library, never the reverse, and the library
has no import cycle. The wheel shipped to the browser and to the zips holds the library only.
"""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path

from conftest import REPO

LIBRARY = REPO / "dataquartiers"
TOOLING = REPO / "booktools"
#: What the labs' library may never import: the tooling, and the build's own libraries.
BUILD_ONLY = {"booktools", "sphinx", "docutils", "myst_nb", "myst_parser", "jupyter_book", "jupyterlite_sphinx",
              "jupyterlite_core", "nbclient", "nbformat", "playwright", "pytest", "jinja2", "frictionless",
              "build", "pyodide_lock", "tests", "conftest"}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import of a module, relative imports resolved."""
    package = _module_name(path, root)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
                # `from . import data` imports the module `dataquartiers.data`
                found.append((node.lineno, module))
                found += [(node.lineno, f"{module}.{a.name}") for a in node.names]
            elif node.module:
                found.append((node.lineno, node.module))
                found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def test_the_library_never_imports_the_tooling_or_the_build():
    problems = []
    for path in sorted(LIBRARY.rglob("*.py")):
        for line, module in _imports(path, LIBRARY):
            if module.split(".")[0] in BUILD_ONLY:
                problems.append(f"{path.relative_to(REPO)}, line {line}: imports {module}")
    assert not problems, "the labs' library must not depend on the tooling:\n" + "\n".join(problems)


def test_the_library_has_no_import_cycle():
    modules = {_module_name(p, LIBRARY): p for p in LIBRARY.rglob("*.py")}
    graph = {name: {m for _, m in _imports(path, LIBRARY) if m in modules and m != name}
             for name, path in modules.items()}
    for name in graph:  # a package's __init__ importing its own modules is not a cycle
        if modules[name].name == "__init__.py":
            graph[name] = {m for m in graph[name] if not m.startswith(name + ".")}
    visiting, done, cycles = set(), set(), []

    def visit(node, trail):
        if node in visiting:
            cycles.append(" → ".join(trail[trail.index(node):] + [node]))
            return
        if node in done:
            return
        visiting.add(node)
        for nxt in sorted(graph[node]):
            visit(nxt, trail + [node])
        visiting.discard(node)
        done.add(node)

    for name in sorted(graph):
        visit(name, [])
    assert not cycles, "import cycles in the labs' library:\n" + "\n".join(cycles)


def test_the_tooling_has_no_import_cycle_between_its_modules():
    modules = {_module_name(p, TOOLING): p for p in TOOLING.rglob("*.py") if "_vendor" not in p.parts}
    graph = {name: {m for _, m in _imports(path, TOOLING) if m in modules and m != name}
             for name, path in modules.items()}
    for name in graph:
        if modules[name].name == "__init__.py":
            graph[name] = {m for m in graph[name] if not m.startswith(name + ".")}
    cycles = []
    for a in graph:
        for b in graph[a]:
            if a in graph.get(b, set()):
                cycles.append(f"{a} ⇄ {b}")
    assert not cycles, "modules of the tooling that import each other:\n" + "\n".join(sorted(set(cycles)))


def _wheel_top_levels(wheel: zipfile.ZipFile) -> set[str]:
    return {n.split("/")[0] for n in wheel.namelist() if not n.split("/")[0].endswith(".dist-info")}


def test_the_browser_wheel_holds_only_the_library(tmp_path):
    from booktools.wheels import build_wheel

    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        assert _wheel_top_levels(zf) == {"dataquartiers"}
        names = zf.namelist()
    assert "dataquartiers/_vendor/leaflet/leaflet.js" in names, "the maps need Leaflet inside the wheel"
    assert not [n for n in names if "booktools" in n or n.endswith(("book.py", "sphinx_ext.py"))]
    assert not [n for n in names if "/_vendor/" in n and "/leaflet/" not in n], \
        "book-only assets (MathJax, the widget manager) are not for trainees"
