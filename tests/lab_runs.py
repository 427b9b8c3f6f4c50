"""Run a lab as a trainee would, on a territory, and read what it shows.

`run_lab(lab, territory, **parameters)` is tests/notebooks.py's `lab_run` with the territory named:
the lab with `TERRITOIRE = territory` (and the other parameters) appended to its `parameters`
cell, executed once per session whoever asks (the build's run when it is the lab as published),
through booktools.execution (the Output-widget fix, a French message for a stuck cell). It returns
(notebook, error): the error is None, or the CellExecutionError of the cell that stopped (the
notebook keeps the outputs up to it, as in a trainee's « run all »). The notebook is shared: read it.
"""

from __future__ import annotations

import re

from conftest import REPO
from notebooks import lab_run

WIDGET = "application/vnd.jupyter.widget-view+json"


def run_lab(lab: str, territory: str, **parameters):
    run = lab_run(REPO / "labs" / f"{lab}.ipynb", TERRITOIRE=territory, **parameters)
    return run.notebook, run.error


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
