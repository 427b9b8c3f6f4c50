"""Run a lab with other parameters, as a participant adapting it would."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run_with_parameters(path: Path, **parameters) -> nbformat.NotebookNode:
    """Execute the notebook after appending `NAME = value` lines to its `parameters` cell."""
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "\n" + "\n".join(f"{k} = {v!r}" for k, v in parameters.items())
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def text_outputs(nb: nbformat.NotebookNode) -> str:
    out = []
    for c in nb.cells:
        for o in c.get("outputs", []):
            if o.output_type == "stream":
                out.append(o.text)
            elif "data" in o:
                out.append(o.data.get("text/plain", "") + o.data.get("text/html", ""))
    return "\n".join(out)
