"""Shared fixtures (the repository's paths, the built book, a local server) and the test tiers.

Tiers — what a test needs besides Python sets its markers, decided here and nowhere else:
- `build`: it reads the built book (it uses the `book_build`, `site` or `site_url` fixture, even
  through another fixture);
- `browser`: it drives Debian's Chromium;
- `slow`: it executes notebooks in a Jupyter kernel, runs a Sphinx build of its own, makes a
  virtualenv or a wheel, runs a command of the book in a new Python process, or spends seconds of
  CPU on the whole data package (remade, validated);
- `stress`: the lab stress runs of `make stress`, deselected unless pytest gets `--stress`.
`build` comes from the fixtures; `browser` and `slow` from the calls that need them (CALLS) in the
test's source or in the source of the fixtures it uses, and from NEEDS (by file or by
`file::test` prefix) for what the source does not show. `make test-fast` runs `pytest --fast`
(FAST_TIER: none of build, browser, slow); `make test` runs everything but the stress runs.

`make test` and `make test-fast` spread the tests over the machine's cores (pytest-xdist,
`--dist loadfile`): the tests of a file go to one worker (its module fixtures are made once), the
files that cost most first (COST); the book is built once for all the workers (`book_build`) and
each lab run is made once for all of them (`_shared_lab_runs`, tests/notebooks.py).

A run whose selected tests declare no need of a kind forbids that kind: a test of `make test-fast`
that starts a kernel or a browser fails and names NEEDS, so an undeclared slow test cannot hide
in the fast tier. When a run holds both tests of the build and lab runs, the build is made first,
so that the labs' runs it made are reused (tests/notebooks.py) instead of repeated.
"""

from __future__ import annotations

import functools
import inspect
import json
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

from booktools.headless import serve_folder  # noqa: F401  (tests import it from here)

pytest_plugins = ("pytester",)  # test_lab_runs.py runs pytest on a test file of its own

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BUILD_GATE = [str(BIN / "jupyter-book"), "build", "--all", "-W", "-n", "--keep-going", "."]

#: Fixtures that make a test need the built book.
BUILD_FIXTURES = {"book_build", "site", "site_url"}
#: Calls that show a need, in a test's source or in the source of a fixture it uses.
CALLS = {
    "browser": ("offline_page(", "sync_playwright(", "measure_startup(",
                "audit_site(", "SiteBrowser(", "weigh(", "print_pdfs("),  # booktools' site audit, handout printing
    "slow": (
        "lab_run(", "run_lab(", "run_with_parameters(", "run_notebook(", "NotebookClient(",  # a kernel
        '"sphinx"', "build_main(", "jupyter-book",  # a Sphinx build
        "sample_book(",  # a small book made to be built by Sphinx
        "lab_coverage.coverage(",  # every lab on every training territory (booktools/coverage.py)
        "sys.executable",  # a command in a new Python process (pip, venv, python -m …)
    ),
}
#: Needs that the fixtures and CALLS do not show: a test file, or `file::` and the start of test names.
NEEDS: dict[str, set[str]] = {
    "test_stress.py::test_each_lab_many_times_in_a_row": {"stress"},
    "test_lab_runs.py::test_tiers_come_from": {"slow"},  # two pytest runs of its own (pytester)
    # the library's wheel (a PEP 517 build), the datasets remade or validated as a whole
    "test_bundles.py::test_bundles_are_reproducible": {"slow"},
    "test_lite.py::test_rebuilt_zip_follows_its_notebook": {"slow"},
    "test_data.py::test_prepare_makes_the_shipped_files": {"slow"},
    "test_data.py::test_frictionless_validates_the_data_package": {"slow"},
}
TIER_MARKERS = ("build", "browser", "slow", "stress")
#: `pytest --fast` (`make test-fast`): the tests that need none of these.
FAST_TIER = "not build and not browser and not slow"


_ALL_CALLS = tuple({c for calls in CALLS.values() for c in calls})


@functools.lru_cache(maxsize=None)
def _calls_in(function, depth: int = 2) -> frozenset[str]:
    """The calls of CALLS found in `function` and in the functions of its module it calls."""
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return frozenset()
    found = {c for c in _ALL_CALLS if c in source}
    if depth:
        module_globals = getattr(function, "__globals__", {})
        for name in getattr(getattr(function, "__code__", None), "co_names", ()):
            helper = module_globals.get(name)
            if inspect.isfunction(helper) and helper.__module__ == function.__module__ and helper is not function:
                found |= _calls_in(helper, depth - 1)
    return frozenset(found)


def _needs_shown_by(calls: set[str]) -> set[str]:
    return {need for need, need_calls in CALLS.items() if calls & set(need_calls)}


def _calls_of(item: pytest.Item) -> set[str]:
    """The calls found in the test's source and in its fixtures' (conftest's own apart)."""
    functions = [getattr(item, "function", None)]
    for name, definitions in getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).items():
        if name not in BUILD_FIXTURES:  # the build's own subprocess is the `build` need
            functions += [d.func for d in definitions if Path(inspect.getsourcefile(d.func) or "").name != "conftest.py"]
    return set().union(*(_calls_in(f) for f in functions if f is not None))


def needs_of(item: pytest.Item) -> set[str]:
    """What the test needs: its fixtures, CALLS in its source and its fixtures', NEEDS, and the
    markers written on the test itself."""
    needs = {m.name for m in item.iter_markers() if m.name in TIER_MARKERS}
    if BUILD_FIXTURES & set(item.fixturenames):
        needs.add("build")
    needs |= _needs_shown_by(_calls_of(item))
    file_and_name = f"{item.path.name}::{getattr(item, 'originalname', item.name)}"
    for key, declared in NEEDS.items():
        if file_and_name.startswith(key if "::" in key else key + "::"):
            needs |= declared
    return needs


def pytest_addoption(parser):
    parser.addoption("--fast", action="store_true",
                     help=f"the fast tier (make test-fast): -m '{FAST_TIER}'")
    parser.addoption("--stress", action="store_true",
                     help="run the stress runs (each lab many times in a row): make stress")


def pytest_configure(config):
    if config.getoption("--fast"):
        if config.option.markexpr:
            raise pytest.UsageError("--fast selects its own markers: give either --fast or -m")
        config.option.markexpr = FAST_TIER


@pytest.hookimpl(tryfirst=True)  # before -m selects on the markers set here
def pytest_collection_modifyitems(config, items):
    kept, dropped = [], []
    for item in items:
        needs = needs_of(item)
        for need in sorted(needs):
            item.add_marker(need)
        (dropped if "stress" in needs and not config.getoption("--stress") else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = _costliest_files_first(kept)


#: A rough cost of a test by its needs, to hand the workers the long files first (pytest-xdist
#: sends the files in the order of the collection): the last file then ends soon after the others.
#: A module fixture that drives a browser or runs something slow does so for many pages or runs
#: (the site audit, a sample book, a virtualenv): it counts SHARED_FIXTURE times a test.
COST = {"browser": 5.0, "slow": 3.0, "build": 1.0}
SHARED_FIXTURE = 40


def _costliest_files_first(items: list[pytest.Item]) -> list[pytest.Item]:
    cost: dict[Path, float] = {}
    counted: dict[Path, set] = {}  # the module fixtures already counted, by file
    for item in items:
        cost[item.path] = cost.get(item.path, 0.0) + max(
            (COST[m.name] for m in item.iter_markers() if m.name in COST), default=0.05)
        for definitions in getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).values():
            for d in definitions:
                if d.scope == "module" and d.func not in counted.setdefault(item.path, set()):
                    counted[item.path].add(d.func)
                    cost[item.path] += SHARED_FIXTURE * max(
                        (COST[need] for need in _needs_shown_by(_calls_in(d.func))), default=0)
    order = {path: rank for rank, path in enumerate(sorted(cost, key=lambda path: (-cost[path], path.name)))}
    return sorted(items, key=lambda item: order[item.path])  # stable: each file's own order kept


@dataclass
class Build:
    returncode: int
    output: str
    html: Path


@pytest.fixture(scope="session")
def book_build(tmp_path_factory, worker_id) -> Build:
    """Run the build gate once: every test that reads the site shares this build. Under
    pytest-xdist the first worker that needs it builds while the others wait, then read its
    result (the pattern of pytest-xdist's documentation)."""
    def build() -> Build:
        proc = subprocess.run(BUILD_GATE, cwd=REPO, capture_output=True, text=True)
        return Build(proc.returncode, proc.stdout + proc.stderr, REPO / "_build" / "html")

    if worker_id == "master":
        return build()
    result = tmp_path_factory.getbasetemp().parent / "book-build.json"
    with FileLock(f"{result}.lock"):
        if not result.is_file():
            made = build()
            result.write_text(json.dumps({"returncode": made.returncode, "output": made.output}), encoding="utf-8")
        done = json.loads(result.read_text(encoding="utf-8"))
    return Build(done["returncode"], done["output"], REPO / "_build" / "html")


@pytest.fixture(scope="session")
def site(book_build: Build) -> Path:
    """The built HTML folder; fails clearly when the build gate did not pass."""
    if book_build.returncode != 0 or not (book_build.html / "index.html").exists():
        pytest.fail("the book did not build (see test_build_gate for the output)")
    return book_build.html


@pytest.fixture(scope="session")
def site_url(site: Path):
    with serve_folder(site) as url:
        yield url


@pytest.fixture(scope="session", autouse=True)
def _shared_lab_runs(tmp_path_factory, worker_id):
    """Under pytest-xdist, the workers of a test run share their lab runs (tests/notebooks.py)."""
    if worker_id == "master":  # one process: its memory is enough
        yield
        return
    import notebooks

    notebooks.SHARED_DIR = tmp_path_factory.getbasetemp().parent / "lab-runs"
    yield
    notebooks.SHARED_DIR = None


def _forbidden(need: str, what: str):
    def refuse(*args, **kwargs):
        raise pytest.fail.Exception(
            f"this test {what} but no test of this run is marked '{need}': declare it in NEEDS "
            f"(tests/conftest.py) so that the tiers stay true")
    return refuse


@pytest.fixture(scope="session", autouse=True)
def _tiers(request):
    """Forbid what no selected test declares; build first when lab runs can reuse the build's."""
    declared = set().union(*(needs_of(i) for i in request.session.items)) if request.session.items else set()
    with pytest.MonkeyPatch.context() as mp:
        if "slow" not in declared:
            import nbclient

            mp.setattr(nbclient.NotebookClient, "async_start_new_kernel",
                       _forbidden("slow", "starts a Jupyter kernel"))
        if "browser" not in declared:
            import playwright.sync_api

            mp.setattr(playwright.sync_api, "sync_playwright", _forbidden("browser", "starts a browser"))
        if {"build", "slow"} <= declared:
            request.getfixturevalue("book_build")
        yield


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
