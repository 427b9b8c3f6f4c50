"""Indicators, checked against values computed by hand."""

import pandas as pd
import pytest

from dataquartiers import indicators as ind


def test_min_max_by_hand():
    assert ind.min_max(pd.Series([10, 20, 30, None])).tolist()[:3] == [0.0, 0.5, 1.0]
    assert pd.isna(ind.min_max(pd.Series([10, 20, 30, None])).iloc[3])
    assert ind.min_max(pd.Series([4, 4])).tolist() == [0.5, 0.5]


def test_z_score_by_hand():
    # mean 2, population sd sqrt(2/3)
    z = ind.z_score(pd.Series([1.0, 2.0, 3.0]))
    assert z.round(4).tolist() == [-1.2247, 0.0, 1.2247]


def test_composite_weights_and_inverse():
    df = pd.DataFrame({"pauvrete": [10, 20, 30], "revenu": [30000, 20000, 10000]})
    # both normalise to [0, .5, 1] once income is inverted: any weights give the same result
    assert ind.composite(df, {"pauvrete": 2, "revenu": 1}, inverse=("revenu",)).tolist() == [0.0, 0.5, 1.0]
    df2 = pd.DataFrame({"a": [0, 10], "b": [0, 0]})
    # a → [0, 1], b constant → 0.5 ; weights 3:1 → [0.125, 0.875]
    assert ind.composite(df2, {"a": 3, "b": 1}).tolist() == [0.125, 0.875]


def test_composite_reweights_missing_components():
    df = pd.DataFrame({"a": [0.0, 10.0, None], "b": [0.0, 10.0, 10.0]})
    out = ind.composite(df, {"a": 1, "b": 1})
    assert out.tolist() == [0.0, 1.0, 1.0]  # third row: only b, which is at its maximum


def test_composite_errors():
    with pytest.raises(KeyError, match="pas de colonne"):
        ind.composite(pd.DataFrame({"a": [1]}), {"x": 1})
    with pytest.raises(ValueError, match="positifs ou nuls"):
        ind.composite(pd.DataFrame({"a": [1]}), {"a": -1})


def test_quintile_by_hand():
    q = ind.quintile(pd.Series([5, 1, 4, 2, 3, 10, 9, 8, 7, 6]))
    assert q.tolist() == [3, 1, 2, 1, 2, 5, 5, 4, 4, 3]
    assert pd.isna(ind.quintile(pd.Series([1.0, None])).iloc[1])


def test_share_and_format():
    assert ind.share(pd.Series([1, 5]), pd.Series([4, 0])).tolist()[0] == 25.0
    assert pd.isna(ind.share(pd.Series([1, 5]), pd.Series([4, 0])).iloc[1])
    assert ind.format_fr(12345.678, 1, "%") == "12\u202f345,7\u00a0%"
    assert ind.format_fr(None) == "—"


def test_share_below_interpolates_between_published_quantiles():
    q = {"D1": 8000, "Q1": 10000, "Q2": 14000, "Q3": 18000, "D9": 24000}
    assert ind.share_below(8000, q) == pytest.approx(0.10)
    assert ind.share_below(12000, q) == pytest.approx(0.375)  # halfway between Q1 and Q2
    assert ind.share_below(4000, q) == pytest.approx(0.05)   # halfway from 0 € to D1
    assert ind.share_below(36000, q) == pytest.approx(1.0)   # D9 + 2 × (D9 − Q3)
    assert ind.share_below(30000, q) == pytest.approx(0.95)
    assert pd.isna(ind.share_below(9000, {"Q2": 14000}))


def test_share_below_by_row_and_non_take_up():
    df = pd.DataFrame({"DECUC_D1": [8000], "DECUC_Q1": [10000], "DECUC_Q2": [14000],
                       "DECUC_Q3": [18000], "DECUC_D9": [24000]})
    assert ind.share_below_by_row(df, 12000, "DECUC").tolist() == [pytest.approx(0.375)]
    with pytest.raises(KeyError, match="DISP_D1"):
        ind.share_below_by_row(df, 12000, "DISP")
    assert ind.non_take_up(pd.Series([60, 120]), pd.Series([100, 100])).tolist() == pytest.approx([40.0, -20.0])
