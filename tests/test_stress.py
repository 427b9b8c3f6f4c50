"""No headless run waits for its timeout: the Output-widget case, and each lab many times in a row.

Runs of the labs used to wait, now and then, until the cell timeout in the cell that writes into an
`ipywidgets.Output` (cause and fix: booktools/execution.py). What proves the fix:
- `test_output_widget_sends_go_through_the_asyncio_socket`: no message leaves on the shell channel
  through the synchronous path while a cell runs, and the widget still receives its outputs;
- `test_output_widget_writes_never_wait_for_the_timeout`: a notebook of 40 cells that each end by
  writing into an Output widget, run 3 times: 120 chances of the lost wake-up (with nbclient's own
  stand-in, 3 to 6 % of such cells waited for the timeout here, so a run of 120 all but never
  passes); no cell may reach its timeout. It is the suite's bounded stress run: about 15 s;
- `test_a_stuck_cell_stops_the_run_with_a_french_message`: what is still stuck (a loop, a wait)
  stops at the cell timeout with a message naming the notebook and the cell;
- `test_each_lab_many_times_in_a_row` (`make stress`, opt-in): each lab DQ_STRESS_RUNS times
  (20 by default), as the issue asked; 5 labs × 20 runs take about 10 minutes on a quiet machine,
  too long for `make test`, and the Output-widget notebook above tests the same path more often
  per second.
"""

from __future__ import annotations

import os
import statistics
import time

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from booktools import execution
from conftest import REPO

LABS = sorted((REPO / "labs").glob("*.ipynb"))
KERNELSPEC = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


def output_widget_notebook(cells: int = 40) -> nbformat.NotebookNode:
    """Every cell ends by writing into an Output widget, as the labs' widget cells do."""
    return new_notebook(metadata=KERNELSPEC, cells=[
        new_code_cell("import ipywidgets as widgets\nsortie = widgets.Output()\ndisplay(sortie)"),
        *[new_code_cell(f"with sortie:\n    print('cellule {i}')") for i in range(cells)]])


def widget_outputs(nb) -> list:
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    return [m["state"]["outputs"] for m in state.values() if m["model_name"] == "OutputModel"]


def test_output_widget_sends_go_through_the_asyncio_socket(tmp_path, monkeypatch):
    import jupyter_client.session

    sent = []
    send = jupyter_client.session.Session.send

    def spy(self, stream, msg_or_type, *args, **kwargs):
        sent.append(msg_or_type["msg_type"] if isinstance(msg_or_type, dict) else msg_or_type)
        return send(self, stream, msg_or_type, *args, **kwargs)

    monkeypatch.setattr(jupyter_client.session.Session, "send", spy)
    nb = output_widget_notebook(5)
    execution.run_notebook(nb, tmp_path, where="output-widget.ipynb", timeout=60)
    assert "comm_msg" not in sent, "the Output-widget stand-in sent through the synchronous path"
    assert sent.count("execute_request") == 6
    assert widget_outputs(nb) == [[{"output_type": "stream", "name": "stdout",
                                    "text": "".join(f"cellule {i}\n" for i in range(5))}]]


def test_output_widget_writes_never_wait_for_the_timeout(tmp_path):
    timeout = 20  # a cell here takes ~20 ms; one that waited for its timeout took exactly this
    slowest = []
    for _ in range(3):
        nb = output_widget_notebook(40)
        seconds = execution.run_notebook(nb, tmp_path, where="output-widget.ipynb", timeout=timeout)
        slowest.append(max(seconds.values()))
        assert len(widget_outputs(nb)[0][0]["text"].splitlines()) == 40
    assert max(slowest) < timeout - 1, f"a cell waited for its timeout ({max(slowest):.1f} s of {timeout} s)"


def test_a_stuck_cell_stops_the_run_with_a_french_message(tmp_path):
    nb = new_notebook(metadata=KERNELSPEC, cells=[new_code_cell("x = 1"),
                                                  new_code_cell("import time\ntime.sleep(60)")])
    with pytest.raises(execution.NotebookRunError) as err:  # after 3 s, not at the end of the sleep
        execution.run_notebook(nb, tmp_path, where="labs/bloque.ipynb", timeout=3)
    assert str(err.value).startswith("labs/bloque.ipynb : la cellule 2 (« import time ») n'a pas fini en 3 s")


def test_each_lab_many_times_in_a_row():
    runs = int(os.environ.get("DQ_STRESS_RUNS", "20"))
    timeout = execution.CELL_TIMEOUT
    report, stuck = [], []
    for path in LABS:
        durations = []
        for i in range(runs):
            nb = nbformat.read(path, as_version=4)
            start = time.perf_counter()
            seconds = execution.run_notebook(nb, path.parent, where=f"{path.name}, exécution {i + 1}", timeout=timeout)
            durations.append(time.perf_counter() - start)
            slowest = max(seconds, key=seconds.get)
            if seconds[slowest] >= timeout - 1:
                stuck.append(f"{path.name}, exécution {i + 1} : la cellule {slowest + 1} a attendu {seconds[slowest]:.0f} s")
        report.append(f"{path.stem:<20} {runs} exécutions : médiane {statistics.median(durations):5.1f} s, "
                      f"max {max(durations):5.1f} s")
    print("\n" + "\n".join(report))
    assert not stuck, "\n".join(stuck)
