"""The job-access and heat-wave labs, each run for two territories, and on a territory without data.

Each run injects new values into the lab's `parameters` cell, as a participant adapting the lab
would, and checks what the outputs must say: the comparison the lab is about, a map with its text
alternative, a widget, and for a territory the data do not cover, a message listing those they do.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from nbclient.exceptions import CellExecutionError

from conftest import REPO
from notebooks import run_with_parameters, text_outputs

EMPLOI = REPO / "labs" / "acces-emploi.ipynb"
CANICULES = REPO / "labs" / "canicules.ipynb"
WIDGET = "application/vnd.jupyter.widget-view+json"


def outputs_of(nb, kind: str) -> list[str]:
    return [o.data[kind] for c in nb.cells for o in c.get("outputs", []) if "data" in o and kind in o.data]


def map_captions(nb) -> list[str]:
    """The text alternatives of the lab's maps (MapFigure puts them in a figcaption)."""
    return [m for html in outputs_of(nb, "text/html") for m in re.findall(r"<figcaption>(.*?)</figcaption>", html, re.S)]


def test_labs_declare_their_parameters():
    for path, names in [(EMPLOI, ["TERRITOIRE", "FAMILLE_ROME", "RAYON_KM", "K_PLUS_PROCHES"]),
                        (CANICULES, ["COMMUNE_CARREAUX", "CENTILE_CHAUD", "CENTILE_PAUVRE", "VILLE_INDICE", "POIDS"])]:
        nb = nbformat.read(path, as_version=4)
        cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(cells) == 1, f"{path.name}: expected one cell tagged 'parameters', found {len(cells)}"
        for name in names:
            assert re.search(rf"^{name} = ", cells[0].source, re.M), f"{path.name}: parameter {name} missing"


def test_labs_follow_the_skeleton_and_hide_their_solutions():
    for path in (EMPLOI, CANICULES):
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        for heading in ["## Vue d'ensemble", "## Prérequis", "**Durée**", "## Données utilisées", "## Paramètres",
                        "## À vous de jouer", "## Résumé", "## Limites et éthique", "## Adapter le lab à votre territoire",
                        "## Sources"]:
            assert heading in text, f"{path.name}: section '{heading}' missing"
        assert "```{admonition} Solution\n:class: dropdown" in text, f"{path.name}: solutions must be hidden"
        assert "non vérifiée" in text, f"{path.name}: unverified licences must be said"


@pytest.mark.parametrize("territory, qpv", [("35238", "Le Blosne"), ("35288", "La Découverte")])
def test_emploi_lab_for_rennes_and_saint_malo(territory, qpv):
    nb = run_with_parameters(EMPLOI, TERRITOIRE=territory, FAMILLE_ROME="G16", RAYON_KM=5)
    text = text_outputs(nb)
    assert qpv in text
    assert "offres à moins de 5 km" in text and "moyenne des 10 plus proches (km)" in text
    assert "offres gardées" in text                                   # the cleaning is shown
    assert "la colonne marque des métiers" in text                    # the flag columns are checked
    if territory == "35238":
        assert "IRIS en QPV" in text and "reste de la commune" in text
    else:  # no IRIS population for Saint-Malo: the comparison is skipped, and said so
        assert "la comparaison avec le reste de la commune est sautée" in text
    captions = map_captions(nb)
    assert len(captions) == 1 and "famille G16" in captions[0]
    assert outputs_of(nb, WIDGET), "the lab must show a widget"


def test_emploi_lab_unknown_territory_lists_the_covered_ones():
    with pytest.raises(CellExecutionError) as err:
        run_with_parameters(EMPLOI, TERRITOIRE="44109")  # Nantes: no QPV contours with job seekers shipped
    message = str(err.value)
    assert "no row for territory '44109'" in message
    assert "35238 (Rennes)" in message and "35288 (Saint-Malo)" in message


def test_emploi_lab_unknown_job_family_says_which_exist():
    with pytest.raises(CellExecutionError) as err:
        run_with_parameters(EMPLOI, FAMILLE_ROME="A14")
    assert "Aucune offre dont le code ROME commence par « A14 »" in str(err.value)
    assert "K22" in str(err.value)


@pytest.mark.parametrize("commune, city, qpv_drawn", [("13055", "69123", False), ("13005", "31555", True)])
def test_canicules_lab_for_two_territories(commune, city, qpv_drawn):
    nb = run_with_parameters(CANICULES, COMMUNE_CARREAUX=commune, VILLE_INDICE=city)
    text = text_outputs(nb)
    assert ("Marseille" if commune == "13055" else "Aubagne") in text
    assert "température moyenne pondérée (°C)" in text and "chaud et pauvre" in text
    assert "si chaleur et pauvreté étaient indépendantes" in text
    assert ("Lyon" if city == "69123" else "Toulouse") in text
    assert "Les dix IRIS les plus vulnérables à la chaleur" in text
    captions = map_captions(nb)
    assert len(captions) == 3, "three maps: temperature, heat and poverty, vulnerability index"
    assert ("quartiers prioritaires sont entourés en bleu" in captions[2]) is qpv_drawn
    assert outputs_of(nb, WIDGET), "the lab must show widgets"


def test_canicules_lab_city_without_lcz_lists_the_covered_ones():
    with pytest.raises(CellExecutionError) as err:
        run_with_parameters(CANICULES, VILLE_INDICE="35238")  # Rennes: no LCZ score shipped
    message = str(err.value)
    assert "no row for territory '35238'" in message
    assert "31555 (Toulouse)" in message and "44109 (Nantes)" in message and "34172 (Montpellier)" in message
