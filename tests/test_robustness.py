"""dataquartiers.robustness, checked on tables small enough to work out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dataquartiers import robustness as rb
from dataquartiers.data import LabKeyError, LabValueError

# Two QPV over four IRIS: A lies in IRIS 1 (70 %) and 2 (30 %); B is spread 25 % over each of 1–4.
OVERLAP = pd.DataFrame({"code_qp": ["A", "A", "B", "B", "B", "B"],
                        "code_iris": ["1", "2", "1", "2", "3", "4"],
                        "share": [0.7, 0.3, 0.25, 0.25, 0.25, 0.25]})
ONE_TENTH, ANY, HALF = rb.overlap_rules(0.10)
LARGE_PART = rb.OverlapRule("un IRIS couvre au moins 30 %", "one", 0.30)


def test_rules_by_hand():
    assert rb.zones_in(OVERLAP, {"2"}, ONE_TENTH).to_dict() == {"A": True, "B": True}
    assert rb.zones_in(OVERLAP, {"2"}, LARGE_PART).to_dict() == {"A": True, "B": False}  # B: 25 % < 30 %
    assert rb.zones_in(OVERLAP, {"2"}, HALF).to_dict() == {"A": False, "B": False}
    assert rb.zones_in(OVERLAP, {"3", "4"}, HALF).to_dict() == {"A": False, "B": True}  # exactly half counts
    assert rb.zones_in(OVERLAP, set(), ANY).to_dict() == {"A": False, "B": False}


def test_a_zone_spread_thin_is_never_in_under_a_share_rule():
    """The case of Marseille's city-centre QPV: no single IRIS holds 30 % of B, whatever is selected."""
    everything = {"1", "2", "3", "4"}
    assert not rb.zones_in(OVERLAP, everything, LARGE_PART)["B"]
    assert rb.zones_in(OVERLAP, everything, HALF)["B"]


def test_chance_matches_the_exact_probability():
    """Drawing 1 IRIS of 4: B is always touched (any rule 'one' at 10 %), A when 1 or 2 is drawn
    (probability 1/2): the expected share of QPV touched is (1 + 1/2) / 2 = 75 %."""
    shares = rb.chance_shares(OVERLAP, ["1", "2", "3", "4"], 1, ONE_TENTH, draws=4000, seed=1)
    assert set(np.unique(shares)) == {50.0, 100.0}
    assert abs(shares.mean() - 75) < 2


def test_draws_are_seeded_and_without_replacement():
    a = rb.chance_shares(OVERLAP, ["1", "2", "3", "4"], 2, HALF, draws=200, seed=7)
    b = rb.chance_shares(OVERLAP, ["1", "2", "3", "4"], 2, HALF, draws=200, seed=7)
    assert (a == b).all()
    # drawing all four candidates leaves no chance: every draw selects everything
    assert (rb.chance_shares(OVERLAP, ["1", "2", "3", "4"], 4, HALF, draws=50) == 100).all()


def test_chance_table_reads_as_a_lab_shows_it():
    table = rb.chance_table(OVERLAP, ["1", "2", "3", "4"], {"IRIS 1": ["1"]}, [ONE_TENTH], draws=1000, seed=3)
    row = table.iloc[0]
    assert row["QPV dans une zone sensible (%)"] == 100 and row["IRIS sensibles"] == 1
    # 100 % is reached when IRIS 1 or 2 is drawn: about half of the draws
    assert 40 < row["tirages au moins aussi hauts (%)"] < 60
    assert row["au hasard : 90 % des tirages entre"] == "50 et 100 %"


def test_bad_input_says_so_in_french():
    with pytest.raises(LabValueError, match="impossible de tirer 5 IRIS parmi 4"):
        rb.chance_shares(OVERLAP, ["1", "2", "3", "4"], 5, ANY)
    with pytest.raises(LabValueError, match="entre 0 et 1"):
        rb.OverlapRule("x", "one", 10)
    with pytest.raises(LabKeyError, match="pas de colonne share"):
        rb.zones_in(OVERLAP.drop(columns="share"), {"1"}, ANY)


QPV = pd.DataFrame({"POP_MUN": [1000, 2000], "C_C2SNP": [150, 300],
                    # declared income: 10 % under 2 000 €, 25 % under 4 000 €, …
                    "DECUC_D1": [2000, 2000], "DECUC_Q1": [4000, 4000], "DECUC_Q2": [8000, 8000],
                    "DECUC_Q3": [12000, 12000], "DECUC_D9": [16000, 16000],
                    # disposable income: every quantile 4 000 € higher
                    "DISP_D1": [6000, 6000], "DISP_Q1": [8000, 8000], "DISP_Q2": [12000, 12000],
                    "DISP_Q3": [16000, 16000], "DISP_D9": [20000, 20000]})


def test_blended_income_by_hand():
    # half the benefits counted: quantiles 4 000, 6 000, 10 000, 14 000, 18 000 ; 8 000 € lies
    # halfway between Q1 (25 %) and the median (50 %)
    assert rb.blended_share_below(QPV, 8000, "DECUC", "DISP", 0.5).tolist() == [0.375, 0.375]
    assert rb.blended_share_below(QPV, 8000, "DECUC", "DISP", 0).tolist() == [0.5, 0.5]
    assert rb.blended_share_below(QPV, 8000, "DECUC", "DISP", 1).tolist() == [0.25, 0.25]


def test_non_take_up_falls_as_more_benefits_are_counted():
    table = rb.non_take_up_range(QPV, 8000, {"déclaré": 0, "moitié": 0.5, "disponible": 1})
    # 3 000 people: eligible 1 500 / 1 125 / 750 ; 450 beneficiaries
    assert table["éligibles estimés"].tolist() == [1500, 1120, 750]  # rounded to tens
    assert [round(v, 1) for v in table["non-recours estimé, ensemble des QPV (%)"]] == [70.0, 60.0, 40.0]
    assert table["QPV au non-recours négatif"].tolist() == [0, 0, 0]
    few = QPV.assign(C_C2SNP=[600, 1200])  # more beneficiaries than eligible people under « disponible »
    assert non_negative(rb.non_take_up_range(few, 8000, {"disponible": 1})) == [2]


def non_negative(table):
    return table["QPV au non-recours négatif"].tolist()


def test_masked_counts_are_left_out_not_counted_as_zero():
    masked = QPV.assign(C_C2SNP=[150, pd.NA])
    table = rb.non_take_up_range(masked, 8000, {"déclaré": 0})
    assert table["éligibles estimés"].iloc[0] == 500
    assert math.isclose(table["non-recours estimé, ensemble des QPV (%)"].iloc[0], 70.0)
