"""Every notebook of the book runs top to bottom with nbclient, and is stored without outputs."""

from __future__ import annotations

import nbformat
import pytest

from conftest import REPO
from notebooks import lab_run

NOTEBOOKS = sorted(p for folder in ("labs", "ethics-charter") for p in (REPO / folder).glob("*.ipynb"))


def test_there_are_labs():
    assert (REPO / "labs" / "prise-en-main.ipynb") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    with_outputs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not with_outputs, f"{path.relative_to(REPO)}: cells {with_outputs} are stored with outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path):
    run = lab_run(path)  # the build's run when it is the same (tests/notebooks.py)
    assert run.error is None, f"{path.name}: {run.error}"
    nb = run.notebook
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for out in cell.outputs:
            assert out.output_type != "error", f"{path.name} cell {i}: {out.ename}: {out.evalue}"
            if out.output_type == "stream" and out.name == "stderr":
                pytest.fail(f"{path.name} cell {i} writes to stderr: {out.text[:300]}")
