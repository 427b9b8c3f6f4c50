"""The expected answers of the facilitator notes, recomputed: each lab runs (booktools.execution,
as every headless run) with its solution code appended, and every `verifications` expression of labs/<lab>.animation.yml must give
the value the notes print. A change of data or of the lab that moves an answer fails here."""

from __future__ import annotations

import json

import nbformat
import pytest

from booktools import execution, notebooks
from booktools import training as tr
from conftest import REPO


def _runs():
    """(lab, parameters, [(exercise number, expression, value)]) — one execution per parameter set."""
    training = tr.load_training(REPO)
    runs = []
    for stem, notes in sorted(training.notes.items()):
        groups: dict[str, list] = {}
        for number, exercise in enumerate(notes.data["exercices"], start=1):
            for check in exercise.get("verifications", []):
                key = json.dumps(check.get("parametres", {}), sort_keys=True)
                groups.setdefault(key, []).append((number, check["expression"], check["valeur"]))
        runs += [(stem, json.loads(key), checks) for key, checks in groups.items()]
    return runs


RUNS = _runs()


def test_every_lab_has_a_checked_answer():
    assert {stem for stem, _, _ in RUNS} == {p.stem for p in notebooks.lab_notebooks(REPO)}


@pytest.mark.parametrize("stem,parameters,checks", RUNS,
                         ids=[f"{s}-{'-'.join(f'{k}={v}' for k, v in p.items()) or 'défaut'}" for s, p, _ in RUNS])
def test_expected_answers_hold(stem, parameters, checks):
    path = REPO / "labs" / f"{stem}.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += "".join(f"\n{name} = {value!r}" for name, value in parameters.items())
    for code in tr.lab_text(path).solution_code:
        nb.cells.append(nbformat.v4.new_code_cell(code))
    expressions = [expression for _, expression, _ in checks]
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json as _json\nprint(_json.dumps([str(eval(_e)) for _e in " + repr(expressions) + "], ensure_ascii=False))"))
    execution.run_notebook(nb, path.parent, where=f"labs/{stem}.ipynb et ses solutions")
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    values = json.loads(printed.strip().splitlines()[-1])
    for (number, expression, expected), got in zip(checks, values):
        assert got == str(expected), f"labs/{stem}.animation.yml, exercice {number} : {expression} donne {got}, les notes disent {expected}"
