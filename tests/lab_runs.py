"""Run a lab as a trainee would, with other parameters, once per lab × territory in a session.

`run_lab(lab, territory, **parameters)` appends `NAME = value` lines to the lab's `parameters`
cell, executes it with nbclient and returns (notebook, error): the error is None, or the
CellExecutionError of the cell that stopped (the notebook keeps the outputs up to it, as in a
trainee's « run all »). Runs are memoised: several tests read the same run.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import REPO

WIDGET = "application/vnd.jupyter.widget-view+json"


@lru_cache(maxsize=None)
def _run(lab: str, territory: str, parameters: tuple, datasets: str):
    path = REPO / "labs" / f"{lab}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\n" + "\n".join(f"{k} = {v!r}" for k, v in (("TERRITOIRE", territory), *parameters))
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as err:
        return nb, err
    return nb, None


def run_lab(lab: str, territory: str, **parameters):
    return _run(lab, territory, tuple(sorted(parameters.items())), os.environ.get("DQ_DATASETS", ""))


def outputs(nb, kind: str) -> list[str]:
    return [o.data[kind] for c in nb.cells for o in c.get("outputs", []) if "data" in o and kind in o.data]


def text_of(nb) -> str:
    """Everything a trainee reads in the outputs: printed text, tables, errors."""
    out = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            if o.output_type == "stream":
                out.append(o.text)
            elif o.output_type == "error":
                out.append("\n".join(o.traceback))
            elif "data" in o:
                html = o.data.get("text/html", "") or o.data.get("text/plain", "")
                # a map's document (Leaflet's code inlined) is not text a trainee reads: its caption is
                out.append(re.sub(r'srcdoc="[^"]*"', 'srcdoc=""', html))
    return "\n".join(out)


def map_captions(nb) -> list[str]:
    """The text alternatives of the lab's maps (MapFigure puts them in a figcaption)."""
    return [m for html in outputs(nb, "text/html") for m in re.findall(r"<figcaption>(.*?)</figcaption>", html, re.S)]


def tagged_outputs(nb, tag: str) -> list:
    return [o for c in nb.cells if tag in c.metadata.get("tags", []) for o in c.get("outputs", [])]


def error_outputs(nb) -> list:
    return [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
