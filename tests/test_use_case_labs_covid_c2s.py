"""The Covid-fragility and C2S labs, each for two territories, and on a territory without data."""

from __future__ import annotations

import pytest
from nbclient.exceptions import CellExecutionError

from conftest import REPO
from notebooks import run_with_parameters, text_outputs

COVID = REPO / "labs" / "fragilite-covid.ipynb"
C2S = REPO / "labs" / "non-recours-c2s.ipynb"


@pytest.mark.parametrize("territory", ["35238", "31555"])
def test_covid_lab_for_two_cities(territory):
    text = text_outputs(run_with_parameters(COVID, TERRITOIRE=territory))
    assert "QPV dans une zone fragile (%)" in text
    assert "synthétique" in text or "IRIS" in text


def test_covid_lab_unknown_territory_says_what_exists():
    with pytest.raises(CellExecutionError) as err:
        run_with_parameters(COVID, TERRITOIRE="21231")  # Dijon: no IRIS/QPV contours shipped
    assert "covers" in str(err.value) or "cover" in str(err.value)


@pytest.mark.parametrize("territory", ["13", "35"])
def test_c2s_lab_for_two_departments(territory):
    text = text_outputs(run_with_parameters(C2S, TERRITOIRE=territory))
    assert "non-recours" in text.lower()
    assert "34 à 45" in text
