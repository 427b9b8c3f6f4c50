"""Is a result more than its assumptions? What chance would give, and how far a hypothesis moves it.

Two checks the labs run before they state a finding:

- **chance** (`chance_table`): a finding such as « 92 % of the QPV touch a fragile IRIS » means
  little until it is set beside what as many IRIS drawn at random would give. Large QPV spread
  over many IRIS touch some of them whatever the draw. The draws are seeded (the same numbers on
  every run), repeated, and summarised as a distribution;
- **sensitivity** (`non_take_up_range`): an estimate that rests on a hypothesis (which income the
  C2S counts) is shown under several values of it, not one.

Plain numpy and pandas (a matrix product per rule): it runs in the browser (Pyodide) as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .data import LabKeyError, LabValueError
from .indicators import FILOSOFI_POINTS, format_fr, non_take_up, share_below


@dataclass(frozen=True)
class OverlapRule:
    """When does a zone (a QPV) count as « in » the selected areas (the fragile IRIS)?

    `how="one"`: one selected area holds at least `share` of the zone's surface (`share=0`: any
    intersection). `how="total"`: the selected areas together hold at least `share` of it.
    """

    label: str
    how: str
    share: float

    def __post_init__(self):
        if self.how not in ("one", "total"):
            raise LabValueError(f"règle de recouvrement « {self.label} » : how vaut « one » ou « total », pas « {self.how} »")
        if not 0 <= self.share <= 1:
            raise LabValueError(f"règle de recouvrement « {self.label} » : la part doit être entre 0 et 1 "
                                f"(reçu {self.share})")

    def weights(self, shares: np.ndarray) -> tuple[np.ndarray, float]:
        """(W, t): a zone meets the rule when Σ over selected areas of W[zone, area] ≥ t."""
        if self.how == "one":
            hit = shares > 0 if self.share == 0 else shares >= self.share
            return hit.astype("float64"), 1.0
        return shares, self.share - 1e-9


def overlap_rules(min_share: float) -> list[OverlapRule]:
    """The three rules the labs compare: the lab's own (one IRIS holds `min_share`), any
    intersection, half of the zone's surface in the selected areas."""
    return [OverlapRule(f"un IRIS sensible couvre au moins {format_fr(100 * min_share, 0)} % du QPV", "one", min_share),
            OverlapRule("le QPV touche un IRIS sensible, même un peu", "one", 0.0),
            OverlapRule("la moitié du QPV au moins est en IRIS sensibles", "total", 0.5)]


def _matrix(overlap: pd.DataFrame, zone: str, area: str, areas: Sequence) -> tuple[pd.Index, np.ndarray]:
    missing = [c for c in (zone, area, "share") if c not in overlap.columns]
    if missing:
        raise LabKeyError(f"table de recouvrement : pas de colonne {', '.join(missing)} "
                          f"(colonnes : {', '.join(map(str, overlap.columns))})")
    zones = pd.Index(sorted(overlap[zone].dropna().unique()))
    table = (overlap[overlap[area].isin(areas)].pivot_table(index=zone, columns=area, values="share", aggfunc="sum")
             .reindex(index=zones, columns=pd.Index(areas)).fillna(0.0))
    return zones, table.to_numpy(dtype="float64")


def zones_in(overlap: pd.DataFrame, selected: Iterable, rule: OverlapRule, *, zone: str = "code_qp",
             area: str = "code_iris") -> pd.Series:
    """For each zone of the overlap table (`dataquartiers.layers.overlap_share`), whether it meets
    `rule` with the `selected` areas (True / False, indexed by zone)."""
    areas = sorted(set(overlap[area].dropna()))
    zones, shares = _matrix(overlap, zone, area, areas)
    chosen = np.isin(np.asarray(areas, dtype=object), list(set(selected))).astype("float64")
    w, t = rule.weights(shares)
    return pd.Series(w @ chosen >= t, index=zones, name="dans_la_selection")


def chance_shares(overlap: pd.DataFrame, candidates: Sequence, n: int, rule: OverlapRule, *, draws: int = 1000,
                  seed: int = 2020, zone: str = "code_qp", area: str = "code_iris") -> np.ndarray:
    """The share (%) of zones meeting `rule` when `n` areas are drawn at random, without
    replacement, among `candidates`: one value per draw (`draws` draws, seeded by `seed`)."""
    candidates = list(dict.fromkeys(candidates))
    if not 0 <= n <= len(candidates):
        raise LabValueError(f"tirage au hasard : impossible de tirer {n} IRIS parmi {len(candidates)}")
    if draws < 1:
        raise LabValueError(f"tirage au hasard : le nombre de tirages doit être d'au moins 1 (reçu {draws})")
    zones, shares = _matrix(overlap, zone, area, candidates)
    w, t = rule.weights(shares)
    rng = np.random.default_rng(seed)
    picks = np.argsort(rng.random((draws, len(candidates))), axis=1)[:, :n]
    chosen = np.zeros((draws, len(candidates)))
    np.put_along_axis(chosen, picks, 1.0, axis=1)
    met = chosen @ w.T >= t
    return 100 * met.mean(axis=1) if len(zones) else np.full(draws, np.nan)


def chance_table(overlap: pd.DataFrame, candidates: Sequence, selections: Mapping[str, Iterable],
                 rules: Sequence[OverlapRule], *, draws: int = 1000, seed: int = 2020, zone: str = "code_qp",
                 area: str = "code_iris") -> pd.DataFrame:
    """Observed share of zones « in » each selection, beside the same share for as many areas
    drawn at random, for every selection × rule: the table a lab shows.

    `selections`: label → the selected areas (e.g. « quintiles 4 et 5 » → the fragile IRIS);
    `candidates`: the areas a draw picks from (those that could have been selected).
    """
    rows = []
    for label, selected in selections.items():
        selected = set(selected) & set(candidates)
        for rule in rules:
            observed = 100 * zones_in(overlap, selected, rule, zone=zone, area=area).mean()
            chance = chance_shares(overlap, candidates, len(selected), rule, draws=draws, seed=seed, zone=zone, area=area)
            low, mid, high = np.percentile(chance, [5, 50, 95])
            rows.append({"zones sensibles": label, "règle : un QPV est « dans » une zone sensible si": rule.label,
                         "IRIS sensibles": len(selected), "QPV dans une zone sensible (%)": observed,
                         "au hasard : médiane (%)": mid,
                         "au hasard : 90 % des tirages entre": f"{format_fr(low, 0)} et {format_fr(high, 0)} %",
                         "tirages au moins aussi hauts (%)": 100 * float(np.mean(chance >= observed - 1e-9))})
    return pd.DataFrame(rows)


def blended_share_below(df: pd.DataFrame, threshold: float, low: str, high: str, weight: float) -> pd.Series:
    """`share_below` on an income between two Filosofi concepts: each published quantile taken as
    low + weight × (high − low) (weight 0: the `low` concept, 1: the `high` one). A transparent
    hypothesis, not a distribution INSEE publishes."""
    if not 0 <= weight <= 1:
        raise LabValueError(f"la part des prestations comptée doit être entre 0 et 1 (reçu {weight})")
    columns = [f"{p}_{k}" for p in (low, high) for k in FILOSOFI_POINTS]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise LabKeyError(f"pas de colonne {', '.join(missing)} dans la table des revenus")

    def one(row):
        return share_below(threshold, {k: row[f"{low}_{k}"] + weight * (row[f"{high}_{k}"] - row[f"{low}_{k}"])
                                       for k in FILOSOFI_POINTS})
    return df.apply(one, axis=1).astype("float64")


def non_take_up_range(df: pd.DataFrame, ceiling: float, hypotheses: Mapping[str, float], *,
                      population: str = "POP_MUN", beneficiaries: str = "C_C2SNP", low: str = "DECUC",
                      high: str = "DISP") -> pd.DataFrame:
    """The C2S non-take-up of a set of QPV under several hypotheses on the resources the C2S
    counts: label → share of social benefits counted (0: declared income, 1: disposable income).

    One row per hypothesis: estimated eligible people (all QPV with both counts), the aggregate
    non-take-up (%), and how many QPV get a negative estimate (more beneficiaries than eligible
    people: the hypothesis is then wrong for them).
    """
    usable = df.dropna(subset=[population, beneficiaries])
    rows = []
    for label, weight in hypotheses.items():
        eligible = usable[population].astype("float64") * blended_share_below(usable, ceiling, low, high, weight)
        per_qpv = non_take_up(usable[beneficiaries], eligible)
        rows.append({"hypothèse : ressources comptées": label, "part des prestations comptée (%)": 100 * weight,
                     "éligibles estimés": round(float(eligible.sum()), -1),
                     "non-recours estimé, ensemble des QPV (%)": float(non_take_up(
                         pd.Series([usable[beneficiaries].sum()]), pd.Series([eligible.sum()])).iloc[0]),
                     "QPV au non-recours négatif": int((per_qpv < 0).sum())})
    return pd.DataFrame(rows)
