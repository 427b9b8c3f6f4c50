"""Each lab × parameter set runs once: the build's run reused only when it is the same run.

booktools.execution decides what "the same run" is (same code cells, same library, data and
pinned packages) and empties the build's cache of runs when that changes; tests/notebooks.py
shares one run between every test that asks for it.
"""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from booktools import execution
from booktools import notebooks as analysis
from conftest import REPO
from notebooks import lab_run

KERNELSPEC = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}


def small_repo(tmp_path):
    """A book with a lab, the library, the data and the pins a run depends on."""
    for name, text in [("dataquartiers/__init__.py", "X = 1\n"), ("datasets/datapackage.json", '{"resources": []}'),
                       ("requirements.txt", "pandas==3.1.1\n")]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    lab = tmp_path / "labs" / "lab.ipynb"
    lab.parent.mkdir()
    nb = new_notebook(metadata=KERNELSPEC, cells=[
        new_markdown_cell("# Un lab"),
        new_code_cell('TERRITOIRE = "35238"   # Rennes\nPOIDS = {"a": 1.0}\nSEUIL = 2 * 10',
                      metadata={"tags": ["parameters"]}),
        new_code_cell("print(TERRITOIRE)")])
    nbformat.write(nb, lab)
    return tmp_path, lab


def cache_a_run(cache_dir, lab):
    """Store an executed copy of `lab` as myst-nb does (no kernel: the outputs are written here)."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    executed = nbformat.read(lab, as_version=4)
    executed.cells[2].outputs = [new_output("stream", name="stdout", text="35238\n")]
    get_cache(cache_dir).cache_notebook_bundle(CacheBundleIn(executed, str(lab)), check_validity=False)


def test_the_builds_run_is_reused_only_while_library_data_and_pins_are_the_same(tmp_path):
    repo, lab = small_repo(tmp_path)
    cache_dir = repo / "_build" / ".jupyter_cache"
    assert execution.cached_execution(lab, cache_dir, repo) is None  # no build yet
    assert execution.forget_stale_executions(cache_dir, repo) is False  # a first build: nothing to forget
    cache_a_run(cache_dir, lab)
    reused = execution.cached_execution(lab, cache_dir, repo)
    assert reused.cells[2].outputs[0].text == "35238\n"

    # the lab's code changed: jupyter-cache itself no longer matches
    edited = nbformat.read(lab, as_version=4)
    edited.cells[2].source = "print(TERRITOIRE, 1)"
    nbformat.write(edited, repo / "labs" / "autre.ipynb")
    assert execution.cached_execution(repo / "labs" / "autre.ipynb", cache_dir, repo) is None

    # the data changed: the run is not the same any more, and the next build forgets it
    (repo / "datasets" / "datapackage.json").write_text('{"resources": [], "x": 1}', encoding="utf-8")
    assert execution.cached_execution(lab, cache_dir, repo) is None
    assert execution.forget_stale_executions(cache_dir, repo) is True
    assert not (cache_dir / "global.db").exists()
    cache_a_run(cache_dir, lab)
    assert execution.cached_execution(lab, cache_dir, repo) is not None
    (repo / "dataquartiers" / "__init__.py").write_text("X = 2\n", encoding="utf-8")  # the library too
    assert execution.cached_execution(lab, cache_dir, repo) is None


def test_parameters_equal_to_the_published_ones_are_the_published_run(tmp_path):
    _repo, lab = small_repo(tmp_path)
    nb = nbformat.read(lab, as_version=4)
    assert execution.parameter_defaults(nb) == {"TERRITOIRE": "35238", "POIDS": {"a": 1.0}}  # SEUIL: not a literal
    adapted = execution.with_parameters(nb, {"TERRITOIRE": "35288", "SEUIL": 5})
    assert adapted.cells[1].source.endswith("\nTERRITOIRE = '35288'\nSEUIL = 5")
    assert nb.cells[1].source.endswith("SEUIL = 2 * 10"), "the published notebook is left as it is"


def test_a_lab_run_is_shared_by_the_tests_that_read_it():
    lab = REPO / "labs" / "prise-en-main.ipynb"
    published = lab_run(lab)
    value = {}
    exec(analysis.parameters(analysis.read(lab)), value)  # the parameters cell as published
    assert lab_run(lab, TERRITOIRE=value["TERRITOIRE"]) is published  # the published value: the same run
    assert published.error is None and published.notebook is not None
    if execution.cached_execution(lab, REPO / "_build" / ".jupyter_cache", REPO) is not None:
        assert published.origin == "build", "the build made this very run: it must be reused"


def test_the_workers_of_a_test_run_share_a_run_made_once(tmp_path, monkeypatch):
    """Under pytest-xdist each worker is a process of its own: the first one that needs a run makes
    it, the others read it from the test run's folder (tests/notebooks.py)."""
    import notebooks as runs
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setattr(runs, "SHARED_DIR", tmp_path / "lab-runs")
    nb = new_notebook(cells=[new_code_cell("1 / 0", outputs=[new_output("error", ename="ZeroDivisionError")])])
    made = []

    def make():
        made.append(1)
        return runs.LabRun(REPO / "labs" / "lab.ipynb", {"TERRITOIRE": "21231"}, nb,
                           CellExecutionError("Traceback…", "ZeroDivisionError", "division by zero"), "test", 1.5)

    key = (REPO / "labs" / "lab.ipynb", (("TERRITOIRE", "'21231'"),), "")
    first = runs._shared(key, make)
    second = runs._shared(key, make)  # another worker: its own memory, the same folder
    assert made == [1], "the run was made twice"
    assert second is not first and second.notebook == first.notebook
    assert (second.error.ename, second.error.evalue, second.seconds) == ("ZeroDivisionError", "division by zero", 1.5)
    other = runs._shared((key[0], (("TERRITOIRE", "'69123'"),), ""), make)
    assert len(made) == 2 and other.notebook == nb, "another parameter set is another run"


# --- the tiers (tests/conftest.py) ------------------------------------------------------------------

TIER_TESTS = '''
import nbclient
import nbformat


def test_reads_the_site(site):
    pass


def test_runs_a_notebook():
    nbclient.NotebookClient(nbformat.v4.new_notebook(), kernel_name="python3").execute()


def test_hides_that_it_starts_a_kernel():
    client = getattr(nbclient, "Notebook" + "Client")  # not a call the tiers can read
    client(nbformat.v4.new_notebook(), kernel_name="python3").execute()


def test_needs_nothing():
    pass
'''


def test_tiers_come_from_fixtures_and_calls_and_a_test_that_hides_its_need_fails_in_the_fast_tier(pytester):
    pytester.makeconftest((REPO / "tests" / "conftest.py").read_text(encoding="utf-8"))
    pytester.makepyprojecttoml((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pytester.makepyfile(test_tiers=TIER_TESTS)
    collected = pytester.runpytest_subprocess("test_tiers.py", "--collect-only", "-q", "-m", "build or slow")
    assert collected.stdout.str().split("\n\n")[0].splitlines() == [
        "test_tiers.py::test_reads_the_site", "test_tiers.py::test_runs_a_notebook"]
    fast = pytester.runpytest_subprocess("test_tiers.py", "--fast")
    fast.assert_outcomes(passed=1, failed=1, deselected=2)
    assert "FAILED test_tiers.py::test_hides_that_it_starts_a_kernel" in fast.stdout.str()
    fast.stdout.fnmatch_lines(["*this test starts a Jupyter kernel but no test of this run is marked 'slow'*NEEDS*"])
