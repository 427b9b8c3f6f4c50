"""What each lab can do on each training city, worked out from the data package.

`coverage()` returns one row per lab × training city × level (the commune, its intercommunality):
« complet » (every step and every map), « partiel » (the core result, some steps or maps
missing), « sans cartes » (the core result and every calculation, no map), « non disponible »
(no core result) — with the reason: which layer is missing, and how to get it. It asks the labs'
library the very questions each lab asks (`dataquartiers.layers`: contours by what they are, job
offers, squares, LCZ), so the table says what the labs do; `tests/test_labs_territories.py` runs
every lab on every territory and checks the lab's outputs against this table.

The labs index page shows it through the directive written in `labs/index.md`:

    ```{lab-coverage}
    ```

The rows are cached in the build folder (keyed on the data package and the library), so a
rebuild does not ask the data again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from dataquartiers.cli import ArgumentParser


#: The cities of the trainings: (name, commune, intercommunality).
TRAINING_CITIES = [("Dijon", "21231", "242100410"), ("Marseille", "13055", "200054807"),
                   ("Lyon", "69123", "200046977")]
STATUSES = ("complet", "partiel", "sans cartes", "non disponible")


@dataclass(frozen=True)
class Part:
    """A step of a lab beyond its core result: its name, whether it is a map, the layers it needs."""

    name: str
    needs: tuple[str, ...]
    is_map: bool = False


@dataclass(frozen=True)
class LabNeeds:
    core: str  # the probe of the core result
    core_name: str
    parts: tuple[Part, ...]


#: What each lab needs, by probe (see PROBES).
LABS = {
    "prise-en-main": LabNeeds("filosofi", "taux de pauvreté et allocataires par IRIS", (
        Part("carte des IRIS", ("iris",), is_map=True),
        Part("quartiers prioritaires sur la carte", ("iris", "qpv"), is_map=True),
        Part("comparaison des contours 2015 et 2024", ("passage_2015_2024",)))),
    "fragilite-covid": LabNeeds("filosofi", "indicateurs socio-démographique et santé par IRIS", (
        Part("carte des IRIS", ("iris",), is_map=True),
        Part("test de l'affirmation de l'étude et sa robustesse", ("iris", "qpv")))),
    "non-recours-c2s": LabNeeds("c2s", "non-recours estimé par QPV", (
        Part("carte des QPV", ("qpv2015",), is_map=True),)),
    "acces-emploi": LabNeeds("ipro", "profil des demandeurs d'emploi des QPV", (
        Part("distances aux offres d'emploi", ("offres", "qpv2015")),
        Part("carte des offres", ("offres", "qpv2015"), is_map=True),
        Part("comparaison avec le reste de la commune", ("offres", "qpv2015", "population_iris")))),
    "canicules": LabNeeds("demo", "qui vit dans les QPV (âge, isolement, pauvreté)", (
        Part("température des carreaux en QPV et hors QPV", ("carreaux", "qpv")),
        Part("cartes des carreaux", ("carreaux",), is_map=True),
        Part("indice de vulnérabilité par IRIS", ("agees", "exposition")),
        Part("carte de l'indice", ("agees", "exposition", "iris"), is_map=True))),
}

#: What a missing layer is called in the reasons.
LAYER_NAMES = {
    "filosofi": "revenus Filosofi par IRIS", "c2s": "tables des QPV (REVN)", "ipro": "table IPRO des QPV",
    "demo": "tables des QPV (DEMO)", "iris": "contours des IRIS", "qpv": "contours des QPV",
    "qpv2015": "contours des QPV 2015", "passage_2015_2024": "contours des QPV 2015 et 2024",
    "offres": "offres d'emploi géolocalisées", "population_iris": "population par IRIS",
    "carreaux": "température de surface par carreau", "agees": "personnes âgées seules par IRIS",
    "exposition": "exposition à la chaleur par IRIS (LCZ ou carreaux)",
}


def _probes():
    """Each probe: territory code → "oui", "partiel" or "non" (the labs' own calls)."""
    from dataquartiers import data, layers

    def loads(name):
        def probe(code):
            data.load(name, territory=code)
            return "oui"
        return probe

    def contours(layer):  # complete, or with some QPV (communes) of the territory lacking
        return "non" if layer is None else ("partiel" if layer.attrs.get("sans_contour") else "oui")

    def exposure(code):
        try:
            layers.temperature_squares(code)
        except data.UnknownTerritoryError:
            layers.lcz_exposure(code)
        return "oui"

    return {
        "filosofi": loads("filosofi_iris_2018"), "c2s": loads("qpv_revenus_c2s"), "ipro": loads("qpv_emploi"),
        "demo": loads("qpv_demographie"), "population_iris": loads("rennes_iris_population"),
        "agees": loads("iris_personnes_agees_seules"),
        "iris": lambda code: contours(layers.iris_contours(code, quiet=True)),
        "qpv": lambda code: contours(layers.qpv_contours(code, quiet=True)),
        "qpv2015": lambda code: contours(layers.qpv_contours(code, "2015", quiet=True)),
        "passage_2015_2024": lambda code: "oui" if layers.qpv_2015_2024(code) is not None else "non",
        "offres": lambda code: "oui" if layers.job_offers(code) is not None else "non",
        "carreaux": lambda code: "oui" if layers.temperature_squares(code) is not None else "non",
        "exposition": exposure,
    }


def _available(code: str) -> dict[str, str]:
    from dataquartiers.data import UnknownTerritoryError

    found = {}
    for name, probe in _probes().items():
        try:
            found[name] = probe(code)
        except UnknownTerritoryError:
            found[name] = "non"
    return found


@dataclass
class Row:
    lab: str
    city: str
    level: str  # "commune" or "intercommunalité"
    code: str
    status: str
    reason: str
    missing_parts: list[str] = field(default_factory=list)  # steps the lab skips, saying why
    partial_parts: list[str] = field(default_factory=list)  # steps done on part of the territory


def _row(lab: str, city: str, level: str, code: str, available: dict[str, str]) -> Row:
    needs = LABS[lab]
    if available[needs.core] == "non":
        return Row(lab, city, level, code, "non disponible",
                   f"pas de {LAYER_NAMES[needs.core]} pour ce territoire : le lab s'arrête avec un message")
    missing = [p for p in needs.parts if any(available[n] == "non" for n in p.needs)]
    partial = [p for p in needs.parts if p not in missing and any(available[n] == "partiel" for n in p.needs)]
    if not missing and not partial:
        return Row(lab, city, level, code, "complet", "toutes les étapes et toutes les cartes")
    maps = [p for p in needs.parts if p.is_map]
    status = "sans cartes" if not partial and set(missing) == set(maps) else "partiel"
    said = [f"résultat principal : {needs.core_name}"]
    if missing:
        layers_missing = sorted({LAYER_NAMES[n] for p in missing for n in p.needs if available[n] == "non"})
        said.append(f"sans : {', '.join(p.name for p in missing)} (manquent : {', '.join(layers_missing)})")
    if partial:
        incomplete = sorted({LAYER_NAMES[n] for p in partial for n in p.needs if available[n] == "partiel"})
        said.append(f"incomplet : {', '.join(p.name for p in partial)} ({', '.join(incomplete)} pour une partie "
                    "du territoire seulement)")
    return Row(lab, city, level, code, status, " ; ".join(said), [p.name for p in missing], [p.name for p in partial])


def coverage(cities=TRAINING_CITIES) -> list[Row]:
    """Lab × training city (commune, then intercommunality) → status and reason."""
    rows = []
    for city, commune, epci in cities:
        for level, code in (("commune", commune), ("intercommunalité", epci)):
            available = _available(code)
            rows += [_row(lab, city, level, code, available) for lab in LABS]
    return rows


# --- the labs index page --------------------------------------------------------------------

def _inputs_digest(root: Path) -> str:
    from dataquartiers import PACKAGE_DIR

    from .buildcache import inputs_digest

    return inputs_digest([root / "datasets", PACKAGE_DIR, Path(__file__)], root)


@lru_cache(maxsize=2)
def cached_coverage(root: str, cache_dir: str | None) -> tuple[Row, ...]:
    """coverage(), read from the build cache when the data and the library did not change."""
    digest = _inputs_digest(Path(root))
    record = Path(cache_dir) / f"coverage-{digest[:16]}.json" if cache_dir else None
    if record is not None and record.exists():
        return tuple(Row(**r) for r in json.loads(record.read_text(encoding="utf-8")))
    rows = coverage()
    if record is not None:
        record.parent.mkdir(parents=True, exist_ok=True)
        for old in record.parent.glob("coverage-*.json"):
            old.unlink()
        record.write_text(json.dumps([asdict(r) for r in rows], ensure_ascii=False), encoding="utf-8")
    return tuple(rows)


def _titles(root: Path) -> dict[str, str]:
    from . import notebooks

    return {nb.stem: notebooks.short_title(notebooks.title(notebooks.read(nb), nb.stem))
            for nb in notebooks.lab_notebooks(root)}


def setup_sphinx(app) -> None:
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    from .buildcache import build_cache_dir

    class LabCoverage(SphinxDirective):
        """The coverage table: one row per lab and training city, the commune and its
        intercommunality side by side, then the reason for what is missing."""

        has_content = False

        def run(self):
            root = Path(self.env.srcdir)
            self.env.note_dependency(str(root / "datasets" / "datapackage.json"))
            rows = cached_coverage(str(root), str(build_cache_dir(self.env.app)))
            titles = _titles(root)
            headers = ["Lab", "Ville", "Commune", "Intercommunalité", "Ce qui manque, et pourquoi"]
            table = nodes.table(classes=["dq-couverture"])
            group = nodes.tgroup(cols=len(headers))
            table += group
            for width in (14, 10, 12, 12, 52):
                group += nodes.colspec(colwidth=width)
            head = nodes.thead()
            head += self._line(headers)
            group += head
            body = nodes.tbody()
            for lab in LABS:
                for city, _commune, _epci in TRAINING_CITIES:
                    pair = [r for r in rows if r.lab == lab and r.city == city]
                    commune, epci = pair[0], pair[1]
                    if commune.reason == epci.reason:
                        reasons = [] if commune.status == "complet" else [f"commune et intercommunalité : {commune.reason}"]
                    else:
                        reasons = [f"{r.level} : {r.reason}" for r in pair if r.status != "complet"]
                    body += self._line([titles.get(lab, lab), city, commune.status, epci.status,
                                        " — ".join(reasons) or "rien"])
            group += body
            return [table]

        @staticmethod
        def _line(cells):
            row = nodes.row()
            for text in cells:
                entry = nodes.entry()
                entry += nodes.paragraph(text=text)
                row += entry
            return row

    app.add_directive("lab-coverage", LabCoverage)


def main(argv: list[str] | None = None) -> int:
    ArgumentParser(prog="python -m booktools.coverage",
                   description="Le tableau labs × villes de formation : ce que chaque lab couvre dans chaque "
                               "ville, et pourquoi.").parse_args(argv)
    for row in coverage():
        print(f"{row.lab:<16} {row.city:<10} {row.level:<17} {row.status:<15} {row.reason}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
