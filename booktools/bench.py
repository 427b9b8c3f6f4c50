"""`make bench`: build, load and test figures, printed as a table in French (medians of several runs).

Targets (not tests, which would flake on a busy machine): clean build < 60 s, no-change rebuild
< 10 s, one-lab edit < 20 s, `make test-fast` < 60 s, `make test` < 15 min. The book is copied
into a temporary folder for the build figures so they never touch the working tree or its
`_build/`; the test figures run the suite in the working tree, as `make test` does.

`python -m booktools.bench tests labs` runs only the named measures (names: MEASURES).
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from dataquartiers.cli import ArgumentParser
from dataquartiers.indicators import format_fr

REPO = Path(__file__).resolve().parent.parent
JB = str(Path(sys.executable).parent / "jupyter-book")
IGNORE = shutil.ignore_patterns(".venv", "_build", "node_modules", ".git", "__pycache__", ".pytest_cache",
                                "*.egg-info", ".jupyterlite.doit.db")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def _timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} a échoué :\n{(proc.stdout + proc.stderr)[-3000:]}")
    return elapsed


def _folder_size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _edit_chapter(book: Path, i: int) -> None:
    page = book / "chapters" / "glossaire.md"
    page.write_text(page.read_text(encoding="utf-8") + f"\n<!-- bench edit {i} -->\n", encoding="utf-8")


def _edit_lab(book: Path, i: int) -> None:
    path = book / "labs" / "prise-en-main.ipynb"
    nb = nbformat.read(path, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code" and "TERRITOIRE" in c.source)
    code.source += f"\n_bench_edit = {i}"
    nbformat.write(nb, path)


def build_figures(runs: int = RUNS) -> list[tuple[str, str, str]]:
    rows = []
    clean, nochange, chapter, lab, gate = [], [], [], [], []
    size = 0
    for i in range(runs):
        with tempfile.TemporaryDirectory(prefix="dq-bench-") as tmp:
            book = Path(tmp) / "book"
            shutil.copytree(REPO, book, ignore=IGNORE)
            build = [JB, "build", "-W", "-n", "--keep-going", "."]
            clean.append(_timed(build, book))
            size = _folder_size(book / "_build" / "html")
            nochange.append(_timed(build, book))
            _edit_chapter(book, i)
            chapter.append(_timed(build, book))
            _edit_lab(book, i)
            lab.append(_timed(build, book))
            gate.append(_timed(build[:2] + ["--all"] + build[2:], book))
    med = lambda xs: seconds(statistics.median(xs))  # noqa: E731
    rows += [
        ("construction à neuf (cache vide)", med(clean), "< 60 s"),
        ("reconstruction sans changement", med(nochange), "< 10 s"),
        ("reconstruction après un chapitre modifié", med(chapter), ""),
        ("reconstruction après une cellule de lab modifiée", med(lab), "< 20 s"),
        ("construction de contrôle --all, cache chaud", med(gate), ""),
        ("taille du site construit", megabytes(size), ""),
    ]
    return rows


def seconds(value: float, decimals: int = 1) -> str:
    return format_fr(value, decimals, "s")


def megabytes(size: float) -> str:
    return format_fr(size / 1e6, 1, "Mo")


def _median_time(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def dataset_figures(runs: int = RUNS) -> list[tuple[str, str, str]]:
    """Load time of every resource of the data package, and one indicator over all IRIS."""
    from dataquartiers import data

    rows = []
    for name in sorted(data.resources()):
        rows.append((f"load('{name}')", format_fr(_median_time(lambda: data.load(name), runs) * 1000, 0, "ms"), ""))
    filosofi = data.load("filosofi_iris_2018")
    elapsed = _median_time(lambda: data.iris_poverty_gap(filosofi), max(runs, 5))
    rows.append((f"écart de pauvreté sur {format_fr(len(filosofi), 0)} IRIS (Filosofi 2018)",
                 format_fr(elapsed * 1000, 0, "ms"), "< 1 s"))
    return rows


def lab_figures(runs: int = RUNS) -> list[tuple[str, str, str]]:
    """Execution time of every lab, top to bottom, run as the build and the tests run it."""
    from .execution import run_notebook

    rows = []
    for path in sorted((REPO / "labs").glob("*.ipynb")):
        def run():
            run_notebook(nbformat.read(path, as_version=4), path.parent, where=path.name)
        rows.append((f"exécution du lab {path.stem}", seconds(_median_time(run, runs)), "< 30 s"))
    return rows


def lab_city_figures(runs: int = RUNS) -> list[tuple[str, str, str]]:
    """Execution time of every lab on each training city (its commune), the way a trainee runs it:
    the `parameters` cell given the city's code (booktools/coverage.py lists the cities)."""
    from .coverage import TRAINING_CITIES
    from .execution import run_notebook, with_parameters

    rows = []
    for path in sorted((REPO / "labs").glob("*.ipynb")):
        for city, commune, _epci in TRAINING_CITIES:
            def run():
                nb = with_parameters(nbformat.read(path, as_version=4), {"TERRITOIRE": commune})
                run_notebook(nb, path.parent, where=f"{path.name} ({commune})")
            rows.append((f"exécution du lab {path.stem} à {city} ({commune})", seconds(_median_time(run, runs)),
                         "< 30 s"))
    return rows


#: The two test tiers, run as a trainer or CI runs them (the Makefile: set-up, then pytest on every core).
TEST_TIERS = {"make test-fast": ["make", "--no-print-directory", "test-fast"],
              "make test": ["make", "--no-print-directory", "test"]}


#: pytest's words in its summary line, in French.
PYTEST_WORDS = {"passed": "réussis", "failed": "en échec", "skipped": "sautés", "deselected": "désélectionnés",
                "xfailed": "échecs attendus", "xpassed": "réussites inattendues", "warnings": "avertissements",
                "warning": "avertissement", "errors": "erreurs", "error": "erreur"}


def _french_summary(summary: str) -> str:
    """« 287 passed, 95 deselected » → « 287 réussis, 95 désélectionnés »."""
    return re.sub(r"\b(\w+)\b", lambda m: PYTEST_WORDS.get(m.group(1), m.group(1)), summary)


def test_figures(runs: int = int(os.environ.get("BENCH_TEST_RUNS", "1"))) -> list[tuple[str, str, str]]:
    """Wall-clock time of the two test tiers, each Make target run in the working tree (its set-up
    step is then up to date); one run by default: the whole suite takes minutes."""
    rows = []
    for name, command in TEST_TIERS.items():
        times, summary = [], ""
        for _ in range(runs):
            start = time.perf_counter()
            proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            # pytest's last line: "287 passed, 95 deselected in 33.28s"
            found = [m.group(1) for line in proc.stdout.splitlines()
                     if (m := re.match(r"=*\s*(\d+ (?:passed|failed|errors?|skipped|deselected).*?) in [\d.]+s", line))]
            summary = _french_summary(found[-1]) if found else "pas de résumé"
            if proc.returncode:
                summary += f", code de sortie {proc.returncode}"
        target = "< 60 s" if "fast" in name else "< 15 min"
        rows.append((f"{name} ({summary})"[:80], seconds(statistics.median(times), 0), target))
    return rows


def catalogue_figures(runs: int = RUNS) -> list[tuple[str, str, str]]:
    """Build time of the catalogue pages with the real entries and with 2,000 generated ones."""
    from .catalogue.bench import bench_build

    extra = statistics.median(bench_build(2000)["extra_seconds"] for _ in range(runs))
    return [("pages du catalogue : 2 000 fiches contre les vraies", f"+{seconds(extra)}", "< +30 s")]


def lite_figures(runs: int = RUNS) -> list[tuple[str, str, str]]:
    """Sizes of the site, its JupyterLite part, the lab zips and a test offline kit; time from
    page load to the JupyterLite UI ready, and to the kernel idle in the test kit.

    The kit is built from the test-only partial Pyodide (tests/pyodide_partial.py: the npm core,
    pure wheels, the real micropip 0.11.1): the complete release cannot be fetched on these machines,
    so its size is not the real kit's (no numpy, pandas, shapely…).
    """
    from . import lite, offline_kit

    site = REPO / "_build" / "html"
    if not (site / lite.LITE_DIR / "jupyter-lite.json").exists():
        return [("mesures de JupyterLite", "non faites", "lancez d'abord `make site`")]
    sizes = lite.site_sizes(site)
    rows = [("taille du site construit (avec JupyterLite et les zips)", megabytes(sizes["site"]), ""),
            ("taille de la partie JupyterLite", megabytes(sizes["lite"]), ""),
            ("taille des zips des labs", megabytes(sizes["bundles"]), "")]
    lab = "labs/prise-en-main.ipynb"
    ui = statistics.median(lite.measure_startup(site, lab).ui_ready_s for _ in range(runs))
    rows.append(("chargement de la page → interface JupyterLite prête", seconds(ui), ""))
    sys.path.insert(0, str(REPO / "tests"))
    try:
        import pyodide_partial

        with tempfile.TemporaryDirectory(prefix="dq-bench-kit-") as tmp:
            work = Path(tmp)
            pyodide_partial.build_partial_distribution(work / "pyodide")
            report = offline_kit.build_kit(site, work / "out", pyodide=str(work / "pyodide"), partial=True,
                                           cache_dir=work / "cache")
            kit = offline_kit.kit_sizes(Path(report.folder))
            rows += [("kit hors ligne de test (Pyodide partiel) : dossier", megabytes(kit["kit"]), ""),
                     ("kit hors ligne de test (Pyodide partiel) : zip", megabytes(kit["kit_archive"]), "")]
            times = lite.measure_startup(Path(report.folder) / "site", lab, kernel_timeout_s=180)
            rows.append(("kit de test : chargement de la page → noyau prêt", seconds(times.kernel_idle_s)
                         if times.kernel_idle_s else "non atteint", ""))
    except Exception as err:  # the kit needs registries for its pure wheels: say why it is absent
        rows.append(("kit hors ligne de test", "non mesuré", f"{type(err).__name__} : {err}"[:80]))
    finally:
        sys.path.remove(str(REPO / "tests"))
    return rows


def atlas_figures(runs: int = RUNS) -> list[tuple[str, str, str]]:
    """The atlas's share of the build, and the size of its pages (booktools/atlas/bench.py)."""
    from .atlas.bench import atlas_figures as figures

    return figures(IGNORE, JB, _timed)


def pyodide_figures(runs: int = 1) -> list[tuple[str, str, str]]:
    """Per lab, in the real-Pyodide harness (tests/pyodide_real.py: Pyodide 0.27.7, JupyterLite 0.6,
    Chromium, network off), one fresh page per lab: page load → kernel idle, and → the end of the
    first cell that imports or uses pandas. Medians of `runs` page loads (BENCH_PYODIDE_RUNS)."""
    site = REPO / "_build" / "html"
    if not (site / "objects.inv").exists():
        return [("mesures dans un vrai Pyodide", "non faites", "lancez d'abord `make site`")]
    sys.path.insert(0, str(REPO / "tests"))
    try:
        import pyodide_real

        from .headless import offline_page, serve_folder
        from .lab_copies import BookLinks, site_address

        if pyodide_real.ready():
            return [("mesures dans un vrai Pyodide", "non faites", pyodide_real.ready()[:80])]
        runs = int(os.environ.get("BENCH_PYODIDE_RUNS", runs))
        rows = []
        with tempfile.TemporaryDirectory(prefix="dq-bench-pyodide-") as tmp:
            info = pyodide_real.build_site(Path(tmp) / "site", BookLinks.of_site(site, site_address(REPO)))
            rows.append(("banc Pyodide 0.27 : construction de JupyterLite 0.6", seconds(info["build_s"]), ""))
            with serve_folder(Path(tmp) / "site") as url:
                for lab in sorted((REPO / "labs").glob("*.ipynb")):
                    idle, pandas = [], []
                    for _ in range(runs):
                        with offline_page() as (page, traffic):
                            result = pyodide_real.run_lab(url, f"labs/{lab.name}", page, traffic, until_pandas=True)
                        if result.kernel_idle_s is not None:
                            idle.append(result.kernel_idle_s)
                        if result.first_pandas_cell_s is not None:
                            pandas.append(result.first_pandas_cell_s)
                    show = lambda xs: seconds(statistics.median(xs)) if xs else "non atteint"  # noqa: E731
                    rows.append((f"{lab.stem} : chargement de la page → noyau prêt", show(idle), ""))
                    rows.append((f"{lab.stem} : chargement de la page → première cellule pandas finie",
                                 show(pandas), ""))
        return rows
    finally:
        sys.path.remove(str(REPO / "tests"))


def site_figures(runs: int = RUNS) -> list[tuple[str, str, str]]:
    """Transferred size of a text page and of the lab pages, the search index (booktools/site_audit.py)."""
    from .site_audit import site_figures as figures

    return figures()


#: Other parts of the book add their measures here: functions `<name>_figures` returning rows
#: (what, value, target); `python -m booktools.bench <name>…` runs some of them.
MEASURES = [build_figures, dataset_figures, lab_figures, lab_city_figures, catalogue_figures, lite_figures,
            atlas_figures, site_figures, pyodide_figures, test_figures]


def measure_name(measure) -> str:
    return measure.__name__.removesuffix("_figures")


def main(argv: list[str] | None = None) -> int:
    names = [measure_name(m) for m in MEASURES]
    parser = ArgumentParser(prog="python -m booktools.bench",
                            description="Mesures du livre (médianes de BENCH_RUNS exécutions).")
    # no `choices=`: Python 3.11's argparse checks the empty list of a `nargs="*"` against them and
    # refuses a bare `python -m booktools.bench` (« invalid choice: [] »)
    parser.add_argument("mesures", nargs="*", metavar="mesure",
                        help=f"les mesures à faire, parmi : {', '.join(names)} (par défaut : toutes)")
    chosen = parser.parse_args(argv).mesures or names
    unknown = [name for name in chosen if name not in names]
    if unknown:
        parser.error(f"mesure inconnue : {', '.join(unknown)} (au choix : {', '.join(names)})")
    print(f"Mesures de Data & Quartiers — {os.cpu_count()} cœurs, médianes de {RUNS} exécutions")
    width = 48
    for measure in MEASURES:
        if measure_name(measure) not in chosen:
            continue
        for name, value, target in measure():
            print(f"{name:<{width}} {value:>12}  {('cible ' + target) if target else ''}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
