"""The atlas built alone (tests, `make bench`), and its share of the book's build.

`sample_book` makes a small Sphinx project holding only the atlas (same extension, same theme, the
book's labs for their coverage, a data package of one's choice): a build of it takes seconds where
the whole book takes a minute. `atlas_figures` is the atlas's line of `make bench`: it builds a copy
of the book clean, then again unchanged, and reads the seconds the atlas recorded in each
(`atlas-timing.json` in the build's cache), and the size of its pages.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .. import REPO_DIR
from .pages import ATLAS_DIR
from .sphinx_ext import TIMING_FILE

_CONF = """\
project = "Banc d'essai de l'atlas"
extensions = ["myst_parser", "booktools.atlas"]
html_theme = "{theme}"
language = "fr"
exclude_patterns = ["_build"]
suppress_warnings = ["myst.header"]
atlas_datasets = {datasets!r}
"""

_ROOT_PAGE = """\
# Banc d'essai de l'atlas

```{{toctree}}
atlas/index
datasets/index
{labs}
```
"""


def sample_book(folder: Path | str, datasets: Path | str | None = None, theme: str = "sphinx_book_theme") -> Path:
    """A Sphinx project with the atlas page, the book's labs (as one-line pages, their notebooks kept for
    the coverage) and a datasets page, reading the data package in `datasets` (the book's by default)."""
    folder = Path(folder)
    (folder / ATLAS_DIR).mkdir(parents=True)
    shutil.copy(REPO_DIR / ATLAS_DIR / "index.md", folder / ATLAS_DIR / "index.md")
    (folder / "datasets").mkdir()
    (folder / "datasets" / "index.md").write_text("# Jeux de données\n", encoding="utf-8")
    (folder / "labs").mkdir()
    stems = []
    for notebook in sorted((REPO_DIR / "labs").glob("*.ipynb")):
        shutil.copy(notebook, folder / "labs" / notebook.name)
        (folder / "labs" / f"{notebook.stem}.md").write_text(f"# {notebook.stem}\n", encoding="utf-8")
        stems.append(f"labs/{notebook.stem}")
    source = Path(datasets) if datasets else REPO_DIR / "datasets"
    (folder / "conf.py").write_text(_CONF.format(theme=theme, datasets=str(source.resolve())), encoding="utf-8")
    (folder / "index.md").write_text(_ROOT_PAGE.format(labs="\n".join(stems)), encoding="utf-8")
    return folder


def build(folder: Path, *, clean: bool = True) -> tuple[Path, str]:
    """Build a sample book in its own process (Sphinx keeps global state); (html folder, warnings)."""
    args = [sys.executable, "-m", "sphinx", "-b", "html", "-n", "-q", "--keep-going"] + (["-E"] if clean else [])
    run = subprocess.run(args + [str(folder), str(folder / "_build" / "html")], capture_output=True, text=True)
    return folder / "_build" / "html", run.stderr


def _timing(book: Path) -> dict:
    path = book / "_build" / ".dq-build-cache" / TIMING_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def pages_size(html_dir: Path) -> tuple[int, int]:
    """(number of files, bytes) of the atlas in a built site."""
    files = [f for f in (html_dir / ATLAS_DIR).rglob("*") if f.is_file()]
    return len(files), sum(f.stat().st_size for f in files)


def compressed_size(html_dir: Path) -> int:
    """Bytes of the atlas once deflated file by file, as in a zip (the offline kit)."""
    import zlib

    return sum(len(zlib.compress(f.read_bytes(), 6)) for f in (html_dir / ATLAS_DIR).rglob("*") if f.is_file())


#: The steps of the atlas's part of a build, as `make bench` names them.
STEP_NAMES = {"labs_seconds": "labs", "maps_seconds": "cartes", "render_seconds": "fiches", "write_seconds": "écriture"}


def atlas_figures(ignore, jupyter_book: str, timed) -> list[tuple[str, str, str]]:
    """The atlas's share of a clean build and of a no-change rebuild of the whole book, and its size.

    `booktools.bench` passes how it copies the book (`ignore`), the jupyter-book command and its
    timer, so that both measure the same way (and neither module imports the other)."""
    rows = []
    with tempfile.TemporaryDirectory(prefix="dq-bench-atlas-") as tmp:
        book = Path(tmp) / "book"
        shutil.copytree(REPO_DIR, book, ignore=ignore)
        command = [jupyter_book, "build", "-W", "-n", "--keep-going", "."]
        clean = timed(command, book)
        first = _timing(book)
        html_dir = book / "_build" / "html"
        files, size = pages_size(html_dir)
        zipped = compressed_size(html_dir)
        sheets = list((html_dir / ATLAS_DIR).glob("QP*.html"))
        sheet_bytes = sum(s.stat().st_size for s in sheets)
        again = timed(command, book)
        second = _timing(book)
    atlas_clean = first.get("build_finished_seconds", 0) + first.get("model_seconds", 0)
    atlas_cpu = first.get("build_finished_cpu_seconds", 0) + first.get("model_cpu_seconds", 0)
    rows.append(("atlas : part de la construction complète", f"{atlas_clean:.1f} s sur {clean:.1f} s",
                 f"{100 * atlas_clean / clean:.0f} % ; livre < 60 s"))
    rows.append(("atlas : temps processeur de la construction complète", f"{atlas_cpu:.1f} s", ""))
    rows.append(("atlas : part de la reconstruction sans changement",
                 f"{second.get('build_finished_seconds', 0):.1f} s sur {again:.1f} s",
                 "sautée" if second.get("skipped") else "REFAITE (cache manqué)"))
    for step in ("labs_seconds", "maps_seconds", "render_seconds", "write_seconds"):
        rows.append((f"atlas, construction complète : {STEP_NAMES[step]}", f"{first.get(step, 0):.1f} s", ""))
    rows.append(("atlas : fiches / fichiers / taille", f"{len(sheets)} / {files} / {size / 1e6:.1f} Mo",
                 f"{zipped / 1e6:.1f} Mo compressés (zip)"))
    if sheets:
        rows.append(("atlas : taille moyenne d'une fiche", f"{sheet_bytes / len(sheets) / 1e3:.0f} ko", ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Build the atlas alone (the book's data) and print its timings: a quick check while editing."""
    from dataquartiers.cli import ArgumentParser

    ArgumentParser(prog="python -m booktools.atlas.bench",
                   description="Construire l'atlas seul (données du livre) et afficher ses durées.").parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="dq-atlas-") as tmp:
        book = sample_book(Path(tmp) / "livre")
        start = time.perf_counter()
        html_dir, warnings = build(book)
        print(f"atlas seul : {time.perf_counter() - start:.1f} s ; {json.dumps(_timing(book))}")
        print(warnings or "aucun avertissement")
        files, size = pages_size(html_dir)
        print(f"{files} fichiers, {size / 1e6:.1f} Mo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
