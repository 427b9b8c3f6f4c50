"""The catalogue of open data sources and the directory of partners, kept by resource-centre staff.

One YAML file per entry (`catalogue/sources/<id>.yml`, `catalogue/partners/<id>.yml`), checked
against a JSON Schema aligned on DCAT-AP and udata (`booktools/schemas/catalogue-*.schema.json`).
The book's build turns them into pages (one per source, a filterable table, the directory by
role) and publishes `catalogue.csv`, `catalogue-tableur.csv` and `catalogue.jsonld` (DCAT-AP) at
the root of the site.

    python -m booktools.catalogue check           # every problem of every file, exit 1 if any
    python -m booktools.catalogue new source <id> # a new entry with every field and its help
    python -m booktools.catalogue templates       # remake catalogue/templates/ from the schemas
    python -m booktools.catalogue bench           # build time of the pages, real vs 2,000 entries
"""

from __future__ import annotations

from .bench import bench_build, bench_entries, sample_book
from .exports import to_csv, to_jsonld, to_spreadsheet_csv, write_exports
from .model import Catalogue, Entry, Problem, check, find_root, load_catalogue, quality, score
from .pages import partners_directory, render_fiches, sources_table
from .scaffold import new_entry, scaffold
from .templates_files import stale_files, write_templates

__all__ = [
    "Catalogue", "Entry", "Problem", "bench_build", "bench_entries", "check", "find_root", "load_catalogue",
    "new_entry", "partners_directory", "quality", "render_fiches", "sample_book", "scaffold", "score",
    "setup_sphinx", "sources_table", "stale_files", "to_csv", "to_jsonld", "to_spreadsheet_csv",
    "write_exports", "write_templates",
]


def setup_sphinx(app) -> None:
    """Register the catalogue's hooks on the book's Sphinx application (see sphinx_ext)."""
    from .sphinx_ext import setup_sphinx as _setup

    _setup(app)


def setup(app) -> dict:
    """Also usable as a Sphinx extension on its own (tests, benchmark)."""
    setup_sphinx(app)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
