"""The job-access lab where geolocated offers exist (Rennes), and the heat lab on a city with local
climate zones and 2015 QPV contours (Toulouse): the steps the training cities cannot run."""

from __future__ import annotations

import re

from lab_runs import WIDGET, error_outputs, map_captions, outputs, run_lab, text_of


def test_emploi_lab_on_rennes_measures_the_distances():
    nb, error = run_lab("acces-emploi", "35238", FAMILLE_ROME="G16", RAYON_KM=5)
    assert error is None
    text = text_of(nb)
    assert "Le Blosne" in text and "offres à moins de 5 km" in text and "moyenne des 10 plus proches (km)" in text
    assert re.search(r"offres gardées</td>\s*<td[^>]*>731</td>", text)  # after removing duplicates and unusable codes
    assert "la colonne marque des métiers" in text
    assert "IRIS en QPV" in text and "reste de la commune" in text
    [caption] = map_captions(nb)
    assert "famille G16" in caption and "quartiers prioritaires du territoire (Rennes)" in caption
    assert outputs(nb, WIDGET), "the lab must show widgets"


def test_emploi_lab_unknown_job_family_says_which_exist():
    nb, error = run_lab("acces-emploi", "35238", FAMILLE_ROME="A14")
    assert error is not None
    [failure] = error_outputs(nb)
    message = "\n".join(failure.traceback)
    assert "Aucune offre dont le code ROME commence par « A14 »" in message and "K22" in message
    assert "Traceback" not in message


def test_canicules_lab_on_toulouse_builds_the_lcz_index():
    nb, error = run_lab("canicules", "31555")
    assert error is None
    text = text_of(nb)
    assert "Couche manquante : température de surface par carreau de 200 m pour Toulouse (31555)" in text
    assert "Exposition : zones climatiques locales (LCZ 2022)." in text
    assert "Les dix IRIS les plus vulnérables à la chaleur, Toulouse" in text
    [caption] = map_captions(nb)
    assert "quartiers prioritaires sont entourés en bleu" in caption and "Toulouse" in caption
