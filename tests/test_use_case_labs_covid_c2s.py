"""The Covid-fragility and C2S labs beyond the training cities: the study's test where both
contours exist in the 2015 geography (Rennes), and the C2S lab on a whole department."""

from __future__ import annotations

from lab_runs import map_captions, run_lab, text_of


def test_covid_lab_tests_the_claim_with_the_2015_contours_of_rennes():
    nb, error = run_lab("fragilite-covid", "35238")
    assert error is None
    text = text_of(nb)
    assert "Quartiers prioritaires de la géographie 2015 (5 quartiers tracés)." in text
    assert "QPV dans une zone sensible (%)" in text and "Le test sur 26 pondérations" in text
    [caption] = map_captions(nb)
    assert "Rennes" in caption and "5 quartiers prioritaires entourés en bleu" in caption


def test_c2s_lab_on_a_department():
    nb, error = run_lab("non-recours-c2s", "13")
    assert error is None
    text = text_of(nb)
    assert "Bouches-du-Rhône : 65 quartier(s) prioritaire(s) de la géographie 2015" in text
    assert "34 à 45" in text
    [caption] = map_captions(nb)
    assert "QPV 2015, Bouches-du-Rhône" in caption
