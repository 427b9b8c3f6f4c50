"""The catalogue in the book's build.

- `builder-inited`: read and check the catalogue; every problem becomes a Sphinx warning with the
  very message `make check-catalogue` prints (so `-W` fails on it); then write the generated pages
  under catalogue/fiches/ before Sphinx looks for documents.
- `config-inited`: the generated source pages are orphans reached from the catalogue table, not
  entries of `_toc.yml` (2,000 of them in the sidebar of every page would make the build
  quadratic). With `only_build_toc_files`, sphinx-external-toc excludes every file absent from the
  toc; this hook, run after it, takes catalogue/fiches/ back out of that exclusion.
- `build-finished`: publish catalogue.csv and catalogue.jsonld at the root of the HTML site.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

from .exports import write_exports
from .model import CATALOGUE_DIR, load_catalogue
from .pages import PAGES_DIR, write_pages

logger = logging.getLogger(__name__)
GENERATED = f"{CATALOGUE_DIR}/{PAGES_DIR}/"


def build_date() -> dt.date:
    """The day of the build; SOURCE_DATE_EPOCH (reproducible builds) wins when it is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).date()
    return dt.date.today()


def _keep_generated_pages(app: Sphinx, config) -> None:
    kept = [p for p in config.exclude_patterns if not str(p).startswith(GENERATED)]
    if len(kept) != len(config.exclude_patterns):
        config.exclude_patterns = kept


def _generate(app: Sphinx) -> None:
    root = Path(app.srcdir)
    if not (root / CATALOGUE_DIR).is_dir():
        return
    cat = load_catalogue(root, build_date())
    for problem in cat.problems:
        logger.warning(str(problem), type="catalogue", subtype="check")
    write_pages(cat)
    app.dq_catalogue = cat  # read again by build-finished for the exports


def _publish_exports(app: Sphinx, exception: Exception | None) -> None:
    cat = getattr(app, "dq_catalogue", None)
    if exception is not None or cat is None or app.builder.format != "html":
        return
    write_exports(cat, app.outdir, app.config.html_baseurl or "")


def setup_sphinx(app: Sphinx) -> None:
    # After sphinx-external-toc (priority 500), which fills exclude_patterns.
    app.connect("config-inited", _keep_generated_pages, priority=900)
    app.connect("builder-inited", _generate)
    app.connect("build-finished", _publish_exports)
