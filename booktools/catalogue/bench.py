"""What the catalogue costs the build: the pages of the real entries against n generated ones.

`bench_entries(n, folder)` writes n synthetic, valid sources (and a few partners) into
`folder/catalogue/`; `bench_build(n)` builds two small books that hold only the catalogue pages
(same theme and extension as the real book), one with the real entries and one with n synthetic
ones, and returns the wall-clock time of each, for `make bench`.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from .model import CATALOGUE_DIR, KINDS, TEMPLATES_DIR, find_labs, terms

from .. import REPO_DIR as REPO_ROOT
PAGES = ("index.md", "partenaires.md", "guide.md")

_CONF = """\
project = "Banc d'essai du catalogue"
extensions = ["myst_parser", "booktools.catalogue"]
html_theme = "{theme}"
language = "fr"
html_baseurl = "https://exemple.org/livre/"
exclude_patterns = ["_build", "catalogue/templates"]
suppress_warnings = ["myst.header"]
"""

_ROOT_PAGE = """\
# Banc d'essai du catalogue

```{{toctree}}
catalogue/index
catalogue/partenaires
catalogue/guide
{labs}
```
"""


def _synthetic_source(i: int, partners: int, today: dt.date) -> dict:
    """One made-up but schema-valid source; values cycle through every vocabulary."""
    pick = lambda field, k=i: list(terms("source", field))[k % len(terms("source", field))]  # noqa: E731
    themes = list(terms("source", "themes"))
    return {
        "id": f"synthetique-{i:05d}",
        "title": f"Source synthétique n° {i} pour le banc d'essai",
        "description": ("Source inventée par le banc d'essai du catalogue : elle a la forme d'une vraie fiche, "
                        "avec une description assez longue pour le score de qualité, des distributions et des "
                        f"thèmes variés. Numéro {i}."),
        "publisher": {"name": f"Producteur fictif {i % 40}", "url": f"https://producteur-{i % 40}.example.org"},
        "partners": [f"partenaire-synthetique-{i % partners:03d}"],
        "landing_page": f"https://producteur-{i % 40}.example.org/donnees/{i}",
        "licence": pick("licence"),
        "licence_status": "verified",
        "licence_note": "Note de licence du banc d'essai.",
        "access": pick("access"),
        "access_note": "Démarche fictive.",
        "spatial_coverage": "France entière",
        "spatial": ["pays:FRA"],
        "granularity": pick("granularity"),
        "geography_vintage": ["COG 2025"],
        "temporal": {"start": str(2000 + i % 20)},
        "frequency": pick("frequency"),
        "distributions": [
            {"title": "Fichier principal", "url": f"https://producteur-{i % 40}.example.org/f/{i}",
             "format": pick("distributions.format")},
            {"title": "API", "url": f"https://api.producteur-{i % 40}.example.org/{i}", "format": "api"},
        ],
        "themes": sorted({themes[i % len(themes)], themes[(i * 7 + 3) % len(themes)]}),
        "keywords": ["banc d'essai", f"mot-{i % 13}"],
        "personal_data": pick("personal_data"),
        "limitations": "Aucune donnée réelle derrière cette fiche.",
        "last_reviewed": (today - dt.timedelta(days=i % 500)).isoformat(),
    }


def _synthetic_partner(i: int, today: dt.date) -> dict:
    roles = list(terms("partner", "roles"))
    return {
        "id": f"partenaire-synthetique-{i:03d}",
        "name": f"Organisation fictive n° {i}",
        "kind": list(terms("partner", "kind"))[i % len(terms("partner", "kind"))],
        "roles": sorted({roles[i % len(roles)], roles[(i + 3) % len(roles)]}),
        "brings": "Des données et une expertise imaginaires, pour mesurer le temps de construction.",
        "website": f"https://organisation-{i}.example.org",
        "territories": ["France entière"],
        "last_reviewed": today.isoformat(),
    }


def bench_entries(n: int, folder: Path | str, partners: int = 30, today: dt.date | None = None) -> Path:
    """Write n synthetic sources and `partners` partners into folder/catalogue/; returns folder."""
    folder, today = Path(folder), today or dt.date.today()
    for kind in KINDS:
        (folder / CATALOGUE_DIR / KINDS[kind][0]).mkdir(parents=True, exist_ok=True)
    for i in range(partners):
        data = _synthetic_partner(i, today)
        (folder / CATALOGUE_DIR / "partners" / f"{data['id']}.yml").write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    for i in range(n):
        data = _synthetic_source(i, partners, today)
        (folder / CATALOGUE_DIR / "sources" / f"{data['id']}.yml").write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return folder


def sample_book(folder: Path | str, entries: Path | str | None = None, synthetic: int | None = None,
                theme: str = "sphinx_book_theme") -> Path:
    """A small Sphinx project holding only the catalogue pages (same extension, same theme).

    Its entries come from `entries` (a book root whose catalogue/, datasets/datapackage.json and
    lab names are copied; this repository by default) or, with `synthetic`, from bench_entries().
    Labs become one-line pages, so that links to them resolve as in the book.
    """
    folder = Path(folder)
    (folder / CATALOGUE_DIR).mkdir(parents=True)
    for page in PAGES:
        shutil.copy(REPO_ROOT / CATALOGUE_DIR / page, folder / CATALOGUE_DIR / page)
    shutil.copytree(REPO_ROOT / CATALOGUE_DIR / TEMPLATES_DIR, folder / CATALOGUE_DIR / TEMPLATES_DIR)
    (folder / "datasets").mkdir()
    (folder / "datasets" / "index.md").write_text("---\norphan: true\n---\n# Jeux de données\n", encoding="utf-8")
    labs: list[str] = []
    if synthetic is None:
        source = Path(entries) if entries is not None else REPO_ROOT
        for kind in KINDS:
            if (source / CATALOGUE_DIR / KINDS[kind][0]).is_dir():
                shutil.copytree(source / CATALOGUE_DIR / KINDS[kind][0], folder / CATALOGUE_DIR / KINDS[kind][0])
        if (source / "datasets" / "datapackage.json").is_file():
            shutil.copy(source / "datasets" / "datapackage.json", folder / "datasets" / "datapackage.json")
        labs = find_labs(source)
    else:
        bench_entries(synthetic, folder)
    (folder / "labs").mkdir()
    for lab in labs:
        (folder / "labs" / f"{lab}.md").write_text(f"# {lab}\n", encoding="utf-8")
    (folder / "conf.py").write_text(_CONF.format(theme=theme), encoding="utf-8")
    (folder / "index.md").write_text(_ROOT_PAGE.format(labs="\n".join(f"labs/{lab}" for lab in labs)),
                                     encoding="utf-8")
    return folder


def _time_build(folder: Path) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", str(folder), str(folder / "_build")],
                   check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def bench_build(n: int = 2000) -> dict:
    """Seconds to build the catalogue pages with the real entries and with n synthetic ones."""
    with tempfile.TemporaryDirectory(prefix="dq-bench-catalogue-") as tmp:
        real = _time_build(sample_book(Path(tmp) / "reel"))
        synthetic = _time_build(sample_book(Path(tmp) / "synthetique", synthetic=n))
    return {"entries": n, "real_seconds": round(real, 2), "synthetic_seconds": round(synthetic, 2),
            "extra_seconds": round(synthetic - real, 2)}
