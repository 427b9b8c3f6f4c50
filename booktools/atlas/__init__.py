"""Atlas des quartiers: a fact sheet for every priority neighbourhood of the national tables.

- `model`: the figures of each sheet, from `datasets/datapackage.json` (national QPV 2015 tables,
  commune comparators, the 2024 neighbourhoods of the same commune and how they are linked, secrecy);
- `labs`: which labs a commune can be worked on, from what each lab reads;
- `pages`: the sheets, the index by department and commune with its search, the CSV files;
- `maps`: the offline map documents;
- `sphinx_ext`: the directive ``{atlas-index}`` and the pages written after the HTML build.

Registered by `booktools/book.py`; usable alone as a Sphinx extension (`booktools.atlas`).
"""

from __future__ import annotations


def setup_sphinx(app) -> None:
    from .sphinx_ext import setup_sphinx as _setup

    _setup(app)


def setup(app) -> dict:
    setup_sphinx(app)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
