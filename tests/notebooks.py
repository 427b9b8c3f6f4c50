"""The labs' runs in the tests: each lab × parameter set executed once per session.

`lab_run(path, **parameters)` is the one way a test runs a lab. Parameters equal to the values of
the lab's `parameters` cell are dropped, so `lab_run(COVID, TERRITOIRE="35238")` is the lab as
published; that run is taken from the build's cache when the build made it with the same code,
library and data (booktools.execution.cached_execution), else executed here. Every other
parameter set is executed once (appended to the `parameters` cell, as a participant adapting the
lab would) and shared by every test that asks for it. Runs go through
booktools.execution.run_notebook: the Output-widget fix, a French message for a stuck cell.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError

from booktools import execution

REPO = Path(__file__).resolve().parent.parent
#: The build's jupyter-cache (myst-nb's default place under Jupyter Book).
BUILD_CACHE = REPO / "_build" / ".jupyter_cache"


@dataclass
class LabRun:
    path: Path
    parameters: dict
    notebook: nbformat.NotebookNode | None  # executed (None when a cell raised)
    error: CellExecutionError | None  # what the lab raised, if it did
    origin: str  # "build" (taken from the build's cache) or "test" (executed in this session)
    seconds: float


_RUNS: dict[tuple, LabRun] = {}


def lab_run(path: Path, **parameters) -> LabRun:
    """The run of the lab with these parameters: executed once per session, then shared."""
    path = Path(path).resolve()
    published = nbformat.read(path, as_version=4)
    defaults = execution.parameter_defaults(published)
    changed = {k: v for k, v in parameters.items() if not (k in defaults and defaults[k] == v)}
    key = (path, tuple(sorted((k, repr(v)) for k, v in changed.items())))
    if key not in _RUNS:
        _RUNS[key] = _run(path, published, changed)
    return _RUNS[key]


def _run(path: Path, published, parameters: dict) -> LabRun:
    start = time.perf_counter()
    if not parameters:
        cached = execution.cached_execution(path, BUILD_CACHE, REPO)
        if cached is not None:
            return LabRun(path, parameters, cached, None, "build", time.perf_counter() - start)
    nb = execution.with_parameters(published, parameters)
    where = path.relative_to(REPO).as_posix() + (f" ({', '.join(f'{k}={v!r}' for k, v in parameters.items())})"
                                                 if parameters else "")
    try:
        execution.run_notebook(nb, path.parent, where=where)
    except CellExecutionError as err:
        return LabRun(path, parameters, None, err, "test", time.perf_counter() - start)
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
