"""Every lab on the three training cities, as commune and as intercommunality; on arrondissements;
and on territories outside the data — one execution per lab × territory.

For each run: no error and nothing on stderr; the core result (the cell tagged `resultat`) shows a
non-empty table; the maps drawn are those the coverage table (booktools/coverage.py) promises,
each with features and a caption naming the territory; a missing layer is said in French where it
matters; what the trainee reads has no English error text, no unformatted decimal number in a
table, no "unverified". Arrondissements keep their own IRIS, QPV and squares, not the whole
city's. A territory outside the data stops the lab with a French message and no traceback.
"""

from __future__ import annotations

import html
import re

import pytest

from booktools import coverage as lab_coverage
from conftest import REPO
from dataquartiers import data, geo, layers
from lab_runs import error_outputs, map_captions, outputs, run_lab, tagged_outputs, text_of

LABS = list(lab_coverage.LABS)
TERRITORIES = [code for _city, commune, epci in lab_coverage.TRAINING_CITIES for code in (commune, epci)]
ENGLISH = re.compile(r"Traceback|Error:|\bUnknown\b|\bcovers\b|\bunverified\b|\bnot found\b|\bmissing\b|"
                     r"\bDataset\b|\bis not\b|(?-i:\bNaN\b|\bnan\b|<NA>)", re.I)
DECIMAL_POINT = re.compile(r"<td[^>]*>\s*-?\d+\.\d+\s*</td>")


@pytest.fixture(scope="module")
def rows():
    return {(r.lab, r.code): r for r in lab_coverage.coverage()}


@pytest.mark.parametrize("territory", TERRITORIES)
@pytest.mark.parametrize("lab", LABS)
def test_every_lab_runs_on_every_training_territory(lab, territory, rows):
    nb, error = run_lab(lab, territory)
    assert error is None, f"{lab} on {territory}: {str(error)[-800:]}"
    stderr = [o.text for c in nb.cells for o in c.get("outputs", []) if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"{lab} on {territory} writes to stderr: {stderr[0][:300]}"
    # the core result: a table with rows
    core = [o.data["text/html"] for o in tagged_outputs(nb, "resultat") if "data" in o and "text/html" in o.data]
    assert core and all("<td" in page for page in core), f"{lab} on {territory}: no core result table"
    text = text_of(nb)
    english = ENGLISH.findall(text)
    assert not english, f"{lab} on {territory}: English or raw text in the outputs: {sorted(set(english))}"
    for page in outputs(nb, "text/html"):
        if "<table" in page:
            bad = DECIMAL_POINT.findall(page)
            assert not bad, f"{lab} on {territory}: unformatted number in a table: {bad[:3]}"
    # the maps agree with the coverage table, and none is empty
    row = rows[(lab, territory)]
    maps = [p for p in lab_coverage.LABS[lab].parts if p.is_map]
    drawn = [p for p in maps if p.name not in row.missing_parts]
    captions = [html.unescape(c) for c in map_captions(nb)]
    name = data.name_of(territory)
    if drawn:
        assert captions, f"{lab} on {territory}: coverage says « {row.status} » but no map was drawn"
        assert all(name in c for c in captions), f"{lab} on {territory}: a map caption does not name {name}"
        assert not any(re.search(r"commune \d{5}|territoire \d", c) for c in captions)
        for page in outputs(nb, "text/html"):
            if "<iframe srcdoc=" in page:
                assert "&quot;Feature&quot;" in page, f"{lab} on {territory}: a map without any feature"
    else:
        assert not captions, f"{lab} on {territory}: coverage says « {row.status} » but a map was drawn"
    if row.status != "complet":
        assert "⚠ " in text, f"{lab} on {territory}: « {row.status} » but no note says what is missing"


def test_the_coverage_table_of_the_training_cities(rows):
    """What the labs index page shows, checked against what the data are known to hold."""
    assert {r.status for r in rows.values()} <= set(lab_coverage.STATUSES)
    assert rows[("prise-en-main", "13055")].status == "complet"
    assert rows[("canicules", "13055")].status == "complet"
    assert rows[("non-recours-c2s", "21231")].status == "sans cartes"  # no QPV contours for Dijon
    assert "offres d'emploi géolocalisées" in rows[("acces-emploi", "69123")].reason
    assert rows[("prise-en-main", "200054807")].status == "partiel"  # 2024 contours of Marseille's QPV only
    assert all(r.status != "non disponible" for r in rows.values())


# --- arrondissements: an arrondissement keeps its own, a commune holds all of them ---------------

def number(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    assert found, f"« {pattern} » not in the outputs"
    return int(found.group(1).replace("\u202f", "").replace(" ", ""))


def test_first_steps_on_an_arrondissement_and_on_its_commune():
    filosofi = data.load("filosofi_iris_2018")
    third = text_of(run_lab("prise-en-main", "13203")[0])
    assert number(r"Marseille 3e Arrondissement : (\d+) IRIS dont les revenus", third) == filosofi["IRIS"].str.startswith("13203").sum()
    listed = data.load("qpv2024_communes", territory="13203")["code_qp"].nunique()
    assert 0 < listed < 41 and number(r"Marseille 3e Arrondissement : (\d+) quartier\(s\) prioritaire\(s\) de la géographie 2024", third) == listed
    city = text_of(run_lab("prise-en-main", "13055")[0])
    assert number(r"Marseille : (\d+) IRIS dont les revenus", city) == filosofi["IRIS"].str.startswith("132").sum()


def test_covid_on_a_lyon_arrondissement():
    text = text_of(run_lab("fragilite-covid", "69388")[0])
    expected = data.load("filosofi_iris_2018")["IRIS"].str.startswith("69388").sum()
    assert number(r"Lyon 8e Arrondissement : (\d+) IRIS avec des revenus publiés", text) == expected


def test_c2s_on_an_arrondissement():
    text = text_of(run_lab("non-recours-c2s", "13203")[0])
    expected = data.load("qpv_revenus_c2s", territory="13203")
    assert number(r"Marseille 3e Arrondissement : (\d+) quartier", text) == len(expected) < 35


def test_jobs_on_a_lyon_arrondissement():
    nb, error = run_lab("acces-emploi", "69388")
    assert error is None
    expected = data.load("qpv_emploi", territory="69388")
    assert number(r"Lyon 8e Arrondissement : (\d+) quartier", text_of(nb)) == len(expected) < 9


def test_heat_on_one_arrondissement_counts_its_own_squares_and_qpv():
    """The issue's case: on 13201, the squares and QPV of the 1st arrondissement only, and the gap
    computed on them (not the whole city's squares with one QPV)."""
    text = text_of(run_lab("canicules", "13201")[0])
    squares = layers.temperature_squares("13201")
    qpv = layers.qpv_contours("13201", quiet=True)
    in_qpv = geo.polygon_of(squares, qpv, "nom_qp").notna()
    assert number(r"Marseille 1er Arrondissement : (\d+) carreaux habités", text) == len(squares) < 100
    assert number(r"dont (\d+) dans un quartier prioritaire", text) == int(in_qpv.sum())
    gap = (geo.weighted_mean(squares.loc[in_qpv.to_numpy(), "land_surface_temperature"], squares.loc[in_qpv.to_numpy(), "num_people"])
           - geo.weighted_mean(squares.loc[~in_qpv.to_numpy(), "land_surface_temperature"], squares.loc[~in_qpv.to_numpy(), "num_people"]))
    said = re.search(r"Écart entre les habitants des QPV et les autres : (-?\d+,\d)", text).group(1)
    assert said == f"{gap:.1f}".replace(".", ",")
    assert "(géographie 2024, 1 quartiers)" in text or "(géographie 2024, 1 quartier" in text


# --- outside the data: a French message, no traceback ---------------------------------------

OUTSIDE = [("21001", "Agencourt"), ("99999", None)]  # a commune without IRIS nor QPV; no such code


@pytest.mark.parametrize("territory, name", OUTSIDE)
@pytest.mark.parametrize("lab", LABS)
def test_a_territory_outside_the_data_stops_with_a_french_message(lab, territory, name):
    nb, error = run_lab(lab, territory)
    assert error is not None, f"{lab} on {territory}: the lab ran through on a territory without data"
    [failure] = error_outputs(nb)
    shown = "\n".join(failure.traceback)
    assert "Traceback" not in shown and 'File "' not in shown and "site-packages" not in shown
    assert failure.traceback[0].startswith("\x1b[1;31m") and "Territoire hors des données" in failure.traceback[0]
    message = "\n".join(failure.traceback[1:])
    if name:
        assert f"{territory} ({name})" in message and "n'a aucune ligne pour le territoire" in message
    else:
        assert "Code de commune inconnu : « 99999 »" in message
    assert not ENGLISH.search(message)


def test_the_labs_state_their_qpv_geography():
    import nbformat

    for lab in LABS:
        nb = nbformat.read(REPO / "labs" / f"{lab}.ipynb", as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert "**Géographie prioritaire**" in text, f"{lab}: say which QPV geography the data use"
        assert "2015" in text and "2024" in text


def test_the_labs_follow_the_skeleton_and_hide_their_solutions():
    import nbformat

    for lab in LABS:
        nb = nbformat.read(REPO / "labs" / f"{lab}.ipynb", as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        for heading in ["## Vue d'ensemble", "## Prérequis", "**Durée**", "## Données utilisées", "## Paramètres",
                        "## À vous de jouer", "## Résumé"]:
            assert heading in text, f"{lab}: section '{heading}' missing"
        assert "```{admonition} Solution\n:class: dropdown" in text, f"{lab}: solutions must be hidden"
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) == 1 and re.search(r"^TERRITOIRE = ", params[0].source, re.M)
        assert len([c for c in nb.cells if "resultat" in c.metadata.get("tags", [])]) == 1, f"{lab}: one core result cell"
