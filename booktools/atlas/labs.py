"""Which labs a neighbourhood's commune can be worked on, from what each lab reads.

A lab reads datasets (found without running it by `booktools.notebooks`, the one analysis of a lab);
those with a territory field cover some communes (`dataquartiers.data.coverage`). For a commune:

- ``complet``: every dataset the lab reads by territory covers it (datasets read through a library
  function that chooses among several, such as the QPV contours, count as one: any of them will do);
- ``partiel``: some of its fine-grained datasets (IRIS, QPV, commune) cover it, not all: the sheet
  names the missing ones, which a territory pack brings;
- ``absent``: none of its fine-grained datasets covers it.

This is a statement about the data, not a run: the book executes each lab on the territory of its
parameters cell only (`run_by_book` says when that territory contains the commune). A dataset with
no territory field (read whole by the lab) is not counted.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from dataquartiers import data

from .. import REPO_DIR, notebooks

TERRITORY_CODE = re.compile(r"^(?:[0-9][0-9AB][0-9]{3}|[0-9]{2}|2[AB]|97[0-9]|[0-9]{9})$")
#: Reference tables every territory filter reads: they say nothing of what a lab covers.
REFERENCE = frozenset(notebooks.TERRITORY_TABLES) | {"departements", "regions", "epci"}
COARSE_LEVELS = ("departement", "region")
COMPLETE, PARTIAL, ABSENT = "complet", "partiel", "absent"


@dataclass(frozen=True)
class Lab:
    stem: str
    title: str
    #: Settings of the parameters cell that take a territory code: (name, default value).
    parameters: tuple[tuple[str, str], ...]
    #: Groups of datasets read by territory: one dataset, or the alternatives of a library function.
    groups: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class LabOnCommune:
    lab: Lab
    status: str
    missing: tuple[str, ...]            # datasets (names) that do not cover the commune
    run_by_book: tuple[str, str] | None  # (parameter, default) whose territory holds the commune


def territory_parameters(nb: dict) -> tuple[tuple[str, str], ...]:
    """The settings of the parameters cell whose value is a territory code (commune, EPCI, department)."""
    source = notebooks.parameters(nb)
    try:
        tree = ast.parse(notebooks.python_source(source))
    except SyntaxError:
        return ()
    found = []
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                and TERRITORY_CODE.match(node.value.value)):
            found.append((node.targets[0].id, node.value.value))
    return tuple(found)


def read_labs(repo: Path = REPO_DIR, folder: Path | None = None) -> list[Lab]:
    folder = Path(folder) if folder else data.datasets_dir()
    package = data.package(folder)
    resources = data.resources(folder)
    readers = notebooks.library_readers(package)
    by_territory = {n for n, r in resources.items() if r.get("territory") and n not in REFERENCE}
    labs = []
    for path in notebooks.lab_notebooks(repo):
        nb = notebooks.read(path)
        needs = notebooks.lab_data_needs(path, repo, package)
        groups: set[tuple[str, ...]] = set()
        for name, where in needs.reads.items():
            if ", via " in where:  # any of what the library function may read will do
                group = readers.get(where.split(", via ", 1)[1], frozenset({name})) & by_territory
                groups.add(tuple(sorted(group)))
            elif name in by_territory:
                groups.add((name,))
        # a dataset read directly is needed; the library function's other choices stay a group
        direct = {g[0] for g in groups if len(g) == 1}
        groups = {g for g in groups if len(g) == 1 or not (set(g) <= direct)}
        labs.append(Lab(path.stem, notebooks.short_title(notebooks.title(nb, path.stem)),
                        territory_parameters(nb), tuple(sorted(groups))))
    return labs


def territory_codes(res: dict, folder: Path) -> tuple[str, set[str]]:
    """(level, codes) a dataset covers: `dataquartiers.data.coverage` without typing the whole file
    (only the territory column is read: the contours of every commune would take seconds)."""
    import json

    import pandas as pd

    spec = res["territory"]
    level = spec.get("level", "iris" if spec.get("derive") == "iris" else "commune")
    path = folder / res["path"]
    if res.get("format") == "geojson" or path.suffix == ".geojson":
        features = json.loads(path.read_text(encoding="utf-8"))["features"]
        values = [f["properties"].get(spec["field"]) for f in features]
    else:
        delimiter = res.get("dialect", {}).get("delimiter", ",")
        values = pd.read_csv(path, sep=delimiter, usecols=[spec["field"]], dtype="string")[spec["field"]].tolist()
    codes = set()
    for v in values:
        if v is None or v is pd.NA:
            continue
        for item in (str(v).split(spec["separator"]) if spec.get("separator") else [str(v)]):
            if item:
                codes.add(item[:5] if level == "iris" else item)
    return ("commune" if level == "iris" else level), codes


class Coverage:
    """What the datasets of the labs cover, read once; then one answer per commune."""

    def __init__(self, labs: list[Lab], folder: Path | None = None):
        self.labs = labs
        self.folder = Path(folder) if folder else data.datasets_dir()
        names = sorted({n for lab in labs for g in lab.groups for n in g})
        resources = data.resources(self.folder)
        self.covered = {n: territory_codes(resources[n], self.folder) for n in names}
        communes = data.load("communes", folder=self.folder)
        self.region = dict(zip(communes["code"], communes["region"]))
        self.parent = {c: p for c, p in zip(communes["code"], communes["commune_parente"]) if isinstance(p, str) and p}
        self.children: dict[str, set[str]] = {}
        for child, parent in self.parent.items():
            self.children.setdefault(parent, set()).add(child)
        members = data.load("epci_communes", folder=self.folder)
        self.epci = dict(zip(members["code_commune"], members["siren_epci"]))

    def expand(self, codes) -> set[str]:
        """Communes with their arrondissements, arrondissements with their city."""
        out = set(codes)
        for c in codes:
            out |= self.children.get(c, set())
            if c in self.parent:
                out.add(self.parent[c])
        return out

    def holds(self, territory: str, communes: set[str]) -> bool:
        """Does a territory code (commune, EPCI SIREN, department) hold one of these communes?"""
        if len(territory) == 9:
            return any(self.epci.get(self.parent.get(c, c)) == territory for c in communes)
        if len(territory) in (2, 3):
            return any(data.departement_of(c) == territory for c in communes)
        return territory in communes

    def _covers(self, name: str, communes: set[str]) -> bool:
        level, codes = self.covered[name]
        if level == "commune":
            return bool(communes & codes)
        if level == "departement":
            return any(data.departement_of(c) in codes for c in communes)
        if level == "region":
            return any(self.region.get(self.parent.get(c, c)) in codes for c in communes)
        if level == "epci":
            return any(self.epci.get(self.parent.get(c, c)) in codes for c in communes)
        return True

    def on(self, commune_codes: list[str]) -> list[LabOnCommune]:
        """Each lab on the commune(s) of a neighbourhood (arrondissements and their city together)."""
        communes = self.expand(commune_codes)
        out = []
        for lab in self.labs:
            missing, fine_covered = [], False
            for group in lab.groups:
                if not any(self._covers(n, communes) for n in group):
                    missing += list(group)
                elif any(self.covered[n][0] not in COARSE_LEVELS for n in group):
                    fine_covered = True
            status = COMPLETE if not missing else (PARTIAL if fine_covered else ABSENT)
            run = next(((p, v) for p, v in lab.parameters if self.holds(v, communes)), None)
            out.append(LabOnCommune(lab, status, tuple(dict.fromkeys(missing)), run))
        return out
