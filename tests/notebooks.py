"""The labs' runs in the tests: each lab × parameter set executed once per session.

`lab_run(path, **parameters)` is the one way a test runs a lab. Parameters equal to the values of
the lab's `parameters` cell are dropped, so `lab_run(COVID, TERRITOIRE="35238")` is the lab as
published; that run is taken from the build's cache when the build made it with the same code,
library and data (booktools.execution.cached_execution), else executed here. Every other
parameter set is executed once (appended to the `parameters` cell, as a participant adapting the
lab would) and shared by every test that asks for it; a run that stops on an error keeps its
outputs up to that cell, with the error. Runs go through
booktools.execution.run_notebook: the Output-widget fix, a French message for a stuck cell.

Under pytest-xdist (`make test`) the workers share the runs too: conftest.py points SHARED_DIR at
a folder of the test run; the first worker that needs a run makes it and stores it there, under a
lock, and the others read it (waiting if it is being made). Each run is made once per test run.
"""

from __future__ import annotations

import copy
import hashlib
import os
import pickle
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from filelock import FileLock
from nbclient.exceptions import CellExecutionError

from booktools import execution, notebooks

REPO = Path(__file__).resolve().parent.parent
#: The build's jupyter-cache (myst-nb's default place under Jupyter Book).
BUILD_CACHE = REPO / "_build" / ".jupyter_cache"


@dataclass
class LabRun:
    path: Path
    parameters: dict
    notebook: nbformat.NotebookNode  # executed; when a cell raised, up to that cell (as a trainee sees it)
    error: CellExecutionError | None  # what the lab raised, if it did
    origin: str  # "build" (taken from the build's cache) or "test" (executed in this session)
    seconds: float


_RUNS: dict[tuple, LabRun] = {}
#: Where the workers of one test run share their runs (set by conftest.py under pytest-xdist).
SHARED_DIR: Path | None = None


def lab_run(path: Path, **parameters) -> LabRun:
    """The run of the lab with these parameters: executed once per session, then shared.

    A run depends on the data folder too: DQ_DATASETS (another data package) is part of the key,
    and a run with it set is never the build's."""
    path = Path(path).resolve()
    published = nbformat.read(path, as_version=4)
    defaults = execution.parameter_defaults(published)
    changed = {k: v for k, v in parameters.items() if not (k in defaults and defaults[k] == v)}
    datasets = os.environ.get("DQ_DATASETS", "")
    key = (path, tuple(sorted((k, repr(v)) for k, v in changed.items())), datasets)
    if key not in _RUNS:
        _RUNS[key] = _shared(key, lambda: _run(path, published, changed, reuse_the_build=not datasets))
    return _RUNS[key]


def _shared(key: tuple, make) -> LabRun:
    """The run made by `make`, or by another worker of this test run if one made it first."""
    if SHARED_DIR is None:
        return make()
    SHARED_DIR.mkdir(parents=True, exist_ok=True)
    stored = SHARED_DIR / (hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:32] + ".pickle")
    with FileLock(f"{stored}.lock"):
        if stored.is_file():
            return pickle.loads(stored.read_bytes())
        run = make()
        stored.write_bytes(pickle.dumps(run))
        return run


def _run(path: Path, published, parameters: dict, reuse_the_build: bool) -> LabRun:
    start = time.perf_counter()
    if not parameters and reuse_the_build:
        cached = execution.cached_execution(path, BUILD_CACHE, REPO)
        if cached is not None:
            return LabRun(path, parameters, cached, None, "build", time.perf_counter() - start)
    nb = execution.with_parameters(published, parameters)
    where = notebooks.shown_path(path, REPO) + (f" ({', '.join(f'{k}={v!r}' for k, v in parameters.items())})"
                                                if parameters else "")
    try:
        execution.run_notebook(nb, path.parent, where=where)
    except CellExecutionError as err:
        return LabRun(path, parameters, nb, err, "test", time.perf_counter() - start)
    return LabRun(path, parameters, nb, None, "test", time.perf_counter() - start)


def run_with_parameters(path: Path, **parameters) -> nbformat.NotebookNode:
    """The executed notebook (a copy: the run is shared), or the CellExecutionError the lab raised."""
    run = lab_run(path, **parameters)
    if run.error is not None:
        raise run.error
    return copy.deepcopy(run.notebook)


def text_outputs(nb: nbformat.NotebookNode) -> str:
    out = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            if o.output_type == "stream":
                out.append(o.text)
            elif "data" in o:
                out.append(o.data.get("text/plain", "") + o.data.get("text/html", ""))
    return "\n".join(out)
