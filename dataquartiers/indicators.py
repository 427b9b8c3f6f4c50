"""Composite indicators as the programme's studies built them: normalise, weight, classify.

Kept small and explicit so a trainee can read it: every function takes and returns pandas
objects, ignores missing values rather than treating them as zero, and says what it does with ties.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping

import numpy as np
import pandas as pd

from .data import LabKeyError, LabValueError


def min_max(values: pd.Series) -> pd.Series:
    """Rescale to [0, 1]: 0 for the smallest value, 1 for the largest (NA stays NA).

    A constant series has no spread: every value becomes 0.5 rather than a division by zero.
    """
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    lo, hi = v.min(), v.max()
    if pd.isna(lo):
        return v
    if hi == lo:
        return v.where(v.isna(), 0.5)
    return (v - lo) / (hi - lo)


def z_score(values: pd.Series) -> pd.Series:
    """Standardise: (x − mean) / standard deviation (population), NA stays NA."""
    v = pd.to_numeric(values, errors="coerce").astype("float64")
    sd = v.std(ddof=0)
    if not sd or pd.isna(sd):
        return v.where(v.isna(), 0.0)
    return (v - v.mean()) / sd


def composite(df: pd.DataFrame, weights: Mapping[str, float], *, normalise=min_max,
              inverse: tuple[str, ...] = ()) -> pd.Series:
    """Weighted mean of normalised columns.

    `weights`: column → weight (any positive numbers, rescaled to sum to 1). `inverse`: columns
    where a high value means *less* fragility (e.g. median income), turned as 1 − x after
    normalisation. A row missing one component is computed on the others, reweighted; a row
    missing all of them is NA.
    """
    if not weights:
        raise LabValueError("composite : donnez au moins une colonne et son poids")
    missing = [c for c in weights if c not in df.columns]
    if missing:
        raise LabKeyError(f"composite : pas de colonne {', '.join(map(str, missing))} (colonnes : {', '.join(map(str, df.columns))})")
    if any(w < 0 for w in weights.values()) or sum(weights.values()) == 0:
        raise LabValueError("composite : les poids doivent être positifs ou nuls, et pas tous nuls")
    parts = {}
    for column in weights:
        x = normalise(df[column])
        if column in inverse:
            x = (1 - x) if normalise is min_max else -x
        parts[column] = x
    table = pd.DataFrame(parts, index=df.index)
    w = pd.Series(weights, dtype="float64")
    present = table.notna()
    weighted = (table.fillna(0) * w).sum(axis=1)
    total_weight = (present * w).sum(axis=1)
    return (weighted / total_weight.replace(0, np.nan)).rename("indice")


def quintile(values: pd.Series, labels: bool = False) -> pd.Series:
    """Quintile of each value, 1 (lowest fifth) to 5 (highest fifth); NA stays NA.

    Ties are ranked by order of appearance first ("first"), so five classes of equal size come out
    even with repeated values.
    """
    v = pd.to_numeric(values, errors="coerce")
    ranks = v.rank(method="first")
    n = ranks.notna().sum()
    if n == 0:
        return pd.Series(pd.NA, index=v.index, dtype="Int64")
    q = np.ceil(ranks * 5 / n).astype("Int64")
    if labels:
        names = {1: "1 (le moins)", 2: "2", 3: "3", 4: "4", 5: "5 (le plus)"}
        return q.map(names)
    return q


def share(part: pd.Series, whole: pd.Series, *, percent: bool = True) -> pd.Series:
    """part / whole (× 100 by default); NA where the whole is 0 or missing."""
    p = pd.to_numeric(part, errors="coerce").astype("float64")
    w = pd.to_numeric(whole, errors="coerce").astype("float64").replace(0, np.nan)
    return (p / w) * (100 if percent else 1)


def format_fr(value, decimals: int = 1, unit: str = "", *, missing: str = "—") -> str:
    """A number written the French way: 12 345,7 (narrow no-break space between thousands,
    decimal comma), halves rounded up as taught (2,25 → 2,3; Python's own rounding gives 2,2);
    `unit` follows after a no-break space; a missing value (None, NaN, pd.NA) gives `missing`.

    The one number formatter of the book: labs, map legends, the ethics charter's averages and
    the generated pages all write numbers through it.
    """
    if value is None or pd.isna(value):
        return missing
    if math.isinf(value):
        text = "∞" if value > 0 else "−∞"
    else:
        rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
        rounded = rounded.copy_abs() if rounded.is_zero() else rounded  # no "-0,0"
        text = f"{rounded:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return f"{text}\u00a0{unit}" if unit else text


def choices_fr(values, decimals: int = 1, *, including=None) -> list[tuple[str, float]]:
    """(label, value) pairs for a widget of choices, labels written the French way: a slider of
    weights is `widgets.SelectionSlider(options=choices_fr([0, 0.5, 1, 1.5, 2]), value=1)`, which
    shows « 1,5 » where a FloatSlider would show « 1.50 » (its readout knows no decimal comma).
    `including`: a value that must be among the choices (the one a participant wrote in the
    parameters cell), added in its place."""
    chosen = sorted(set(values) | ({including} if including is not None and not pd.isna(including) else set()))
    return [(format_fr(v, decimals), v) for v in chosen]


#: Population shares at which Filosofi publishes the income distribution (D1, Q1, median, Q3, D9).
FILOSOFI_POINTS = {"D1": 0.10, "Q1": 0.25, "Q2": 0.50, "Q3": 0.75, "D9": 0.90}


def share_below(threshold: float, quantiles: Mapping[str, float]) -> float:
    """Estimated share of people whose income is under `threshold`, from published quantiles.

    Filosofi gives, for an area, the income under which 10 %, 25 %, 50 %, 75 % and 90 % of people
    live (D1, Q1, Q2, Q3, D9). Between two of these points the distribution is taken as linear;
    below D1 it runs linearly from 0 € (share 0) to D1; above D9 it runs to D9 + (D9 − Q3) × 2
    (share 1). A crude but transparent interpolation: it says "about", not "exactly".
    Missing quantiles are skipped; fewer than two known points give NaN.
    """
    points = sorted((float(quantiles[k]), share) for k, share in FILOSOFI_POINTS.items()
                    if k in quantiles and quantiles[k] is not None and not pd.isna(quantiles[k]))
    if len(points) < 2:
        return float("nan")
    top_income = points[-1][0] + 2 * max(points[-1][0] - points[-2][0], 0)
    xs = [0.0] + [p[0] for p in points] + [top_income]
    ys = [0.0] + [p[1] for p in points] + [1.0]
    return float(np.interp(threshold, xs, ys))


def share_below_by_row(df: pd.DataFrame, threshold: float, prefix: str) -> pd.Series:
    """`share_below` for every row of a Filosofi table whose quantile columns are
    `<prefix>_D1, <prefix>_Q1, <prefix>_Q2, <prefix>_Q3, <prefix>_D9` (e.g. prefix "DECUC" for
    declared income per consumption unit, "DISP" for disposable income)."""
    columns = {k: f"{prefix}_{k}" for k in FILOSOFI_POINTS}
    missing = [c for c in columns.values() if c not in df.columns]
    if missing:
        raise LabKeyError(f"share_below_by_row : pas de colonne {', '.join(missing)}")
    return df.apply(lambda row: share_below(threshold, {k: row[c] for k, c in columns.items()}), axis=1)


def non_take_up(beneficiaries: pd.Series, eligible: pd.Series) -> pd.Series:
    """Estimated non-take-up rate (%): 100 × (1 − beneficiaries / eligible).

    Negative when the count of beneficiaries exceeds the estimated eligible population: the
    estimate is then wrong for that area (income concept, vintage, scale), not the people.
    """
    b = pd.to_numeric(beneficiaries, errors="coerce").astype("float64")
    e = pd.to_numeric(eligible, errors="coerce").astype("float64").replace(0, np.nan)
    return 100 * (1 - b / e)


def table_fr(df: pd.DataFrame, decimals: int | Mapping[str, int] = 1, *, caption: str | None = None,
             na: str = "—", index: bool = False):
    """A table as a lab shows it: every number written the French way (`format_fr`), missing
    values as `na`, text escaped, and no row numbers unless the index means something.

    `decimals`: one number for every non-integer column, or a mapping column → decimals (integer
    columns get 0 unless the mapping says otherwise). Returns a pandas Styler, to display.
    """
    def places(column) -> int:
        if isinstance(decimals, Mapping) and column in decimals:
            return decimals[column]
        kind = getattr(df[column].dtype, "kind", "O")
        if kind in "iu" or str(df[column].dtype) in ("Int64", "Int32", "UInt64"):
            return 0
        return decimals if isinstance(decimals, int) else 1

    formats = {}
    for column in df.columns:
        if pd.api.types.is_bool_dtype(df[column]):
            formats[column] = lambda v: na if pd.isna(v) else ("oui" if v else "non")
        elif pd.api.types.is_numeric_dtype(df[column]):
            formats[column] = (lambda v, d=places(column): na if pd.isna(v) else format_fr(v, d))
    styler = df.style.format(formatter=formats, na_rep=na, escape="html")
    if index:
        if pd.api.types.is_numeric_dtype(df.index):
            styler = styler.format_index(lambda v: format_fr(v, 0), axis="index")
    else:
        styler = styler.hide(axis="index")
    if caption:
        styler = styler.set_caption(caption)
    return styler
